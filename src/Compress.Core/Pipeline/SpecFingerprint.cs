using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using Compress.Core.Spec;

namespace Compress.Core.Pipeline;

/// <summary>
/// The canonical text of a model entry for cache keys: every public property of the entry, its passes and
/// their options (read by reflection, so options added to the spec later are covered without changes here),
/// sorted by name, culture-invariant. Positions in the YAML and file paths are left out: paths name files
/// whose bytes the key hashes instead, so two projects with the same model and spec get the same key.
/// </summary>
public static class SpecFingerprint
{
    // Where a value was written and where files live do not change the result; the files' content does.
    private static readonly HashSet<string> IgnoredProperties = new(StringComparer.Ordinal)
    {
        nameof(ModelSpec.SourcePath),
        nameof(ModelSpec.Location),
        nameof(CalibrationSpec.DataPaths),
    };

    private const int MaxDepth = 12;

    /// <summary>The canonical text of <paramref name="model"/>.</summary>
    public static string Of(ModelSpec model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return OfValue(model);
    }

    /// <summary>The canonical text of any part of a spec (a pass list, a budget, ...), by the same rules.</summary>
    public static string OfValue(object? value)
    {
        var text = new StringBuilder();
        Append(text, value, 0);
        return text.ToString();
    }

    private static void Append(StringBuilder text, object? value, int depth)
    {
        switch (value)
        {
            case null:
                text.Append("null");
                return;
            case string s:
                text.Append('"').Append(s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
                return;
            case Enum e:
                text.Append(e.ToString());
                return;
            case IFormattable f when value.GetType().IsPrimitive || value is decimal:
                text.Append(f.ToString(value is float or double ? "R" : null, CultureInfo.InvariantCulture));
                return;
            case bool b:
                text.Append(b ? "true" : "false");
                return;
            case IEnumerable items:
                text.Append('[');
                foreach (object? item in items)
                {
                    Append(text, item, depth + 1);
                    text.Append(',');
                }

                text.Append(']');
                return;
        }

        if (depth > MaxDepth)
        {
            throw new InvalidOperationException($"The spec object graph is deeper than {MaxDepth} levels at {value.GetType().Name}.");
        }

        Type type = value.GetType();
        text.Append(type.Name).Append('{');
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                     .Where(p => p.GetIndexParameters().Length == 0 && !IgnoredProperties.Contains(p.Name) && p.PropertyType != typeof(SourceLocation))
                     .OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            text.Append(property.Name).Append('=');
            Append(text, property.GetValue(value), depth + 1);
            text.Append(';');
        }

        text.Append('}');
    }
}
