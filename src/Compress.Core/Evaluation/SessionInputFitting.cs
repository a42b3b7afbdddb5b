using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Evaluation;

/// <summary>
/// Float32 sample data fed to a model whose input the float16 pass (without <c>keep_io_types</c>) made float16:
/// the data is converted, as a user of that model would, so the original's data drives both models.
/// </summary>
internal static class SessionInputFitting
{
    /// <summary>
    /// <paramref name="value"/> as <paramref name="session"/>'s input <paramref name="name"/> takes it: itself, or a
    /// float16 copy added to <paramref name="converted"/> (which the caller disposes).
    /// </summary>
    public static OrtValue Fit(InferenceSession session, string name, OrtValue value, List<OrtValue> converted)
    {
        if (!session.InputMetadata.TryGetValue(name, out NodeMetadata? meta)
            || meta.ElementDataType != TensorElementType.Float16
            || value.GetTensorTypeAndShape().ElementDataType != TensorElementType.Float)
        {
            return value;
        }

        ReadOnlySpan<float> source = value.GetTensorDataAsSpan<float>();
        var half = new Float16[source.Length];
        for (int i = 0; i < source.Length; i++)
        {
            half[i] = new Float16(BitConverter.HalfToUInt16Bits((Half)source[i]));
        }

        OrtValue fitted = OrtValue.CreateTensorValueFromMemory(half, value.GetTensorTypeAndShape().Shape);
        converted.Add(fitted);
        return fitted;
    }

    /// <summary>Every input of <paramref name="values"/> fitted with <see cref="Fit"/>.</summary>
    public static OrtValue[] FitAll(InferenceSession session, IReadOnlyList<string> names, IReadOnlyList<OrtValue> values, List<OrtValue> converted)
    {
        var inputs = new OrtValue[values.Count];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = Fit(session, names[i], values[i], converted);
        }

        return inputs;
    }
}
