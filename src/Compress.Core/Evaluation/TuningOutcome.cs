using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;

namespace Compress.Core.Evaluation;

/// <summary>What <see cref="AccuracyTuner"/> ended with.</summary>
public sealed class TuningOutcome
{
    /// <summary>Whether the last step meets the budget.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>The model of the last step (the untuned model when there was nothing to tune).</summary>
    public required ModelProto Model { get; init; }

    /// <summary>The pass reports of the last step.</summary>
    public required IReadOnlyList<PassReport> PassReports { get; init; }

    /// <summary>The evaluation of the last step.</summary>
    public required EvaluationResult Result { get; init; }

    /// <summary>Nodes left as in the original in the last step, most sensitive first.</summary>
    public required IReadOnlyList<string> Excluded { get; init; }

    /// <summary>The settings the static quantize passes use instead of the written ones; null when unchanged.</summary>
    public QuantizationChoice? Quantization { get; init; }

    /// <summary>Every step, in order.</summary>
    public required IReadOnlyList<TuningStep> Steps { get; init; }

    /// <summary>Every candidate layer, most sensitive first.</summary>
    public required IReadOnlyList<LayerSensitivity> Sensitivities { get; init; }
}
