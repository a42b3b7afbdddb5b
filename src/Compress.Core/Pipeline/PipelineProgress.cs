namespace Compress.Core.Pipeline;

/// <summary>How far one long step of one model has come (calibration, evaluation, tuning).</summary>
/// <param name="Model">The model's name in the spec.</param>
/// <param name="Activity">What runs, as a short present participle: <c>calibrating</c>, <c>evaluating</c>, ...</param>
/// <param name="Done">Units finished (samples, layers, steps).</param>
/// <param name="Total">Units in all; <paramref name="Done"/> equals it when the step ends.</param>
public readonly record struct PipelineProgress(string Model, string Activity, int Done, int Total)
{
    /// <summary>Whether the step has finished.</summary>
    public bool IsComplete => Done >= Total;

    /// <summary>Completed fraction in [0, 1] (1 for an empty step).</summary>
    public double Fraction => Total <= 0 ? 1 : Math.Clamp((double)Done / Total, 0, 1);
}
