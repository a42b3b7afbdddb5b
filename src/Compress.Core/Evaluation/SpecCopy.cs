using System.Reflection;

namespace Compress.Core.Evaluation;

/// <summary>Copies of spec objects with one property changed, for the variants accuracy tuning runs.</summary>
internal static class SpecCopy
{
    /// <summary>A copy of <paramref name="source"/> whose <paramref name="property"/> is <paramref name="value"/>.</summary>
    public static T With<T>(T source, string property, object? value)
        where T : class
    {
        // Every settable property is copied, so options added to the specs later are kept without changes here.
        Type type = source.GetType();
        var copy = (T)Activator.CreateInstance(type)!;
        foreach (PropertyInfo p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.CanWrite && p.GetIndexParameters().Length == 0)
            {
                p.SetValue(copy, p.GetValue(source));
            }
        }

        type.GetProperty(property)!.SetValue(copy, value);
        return copy;
    }
}
