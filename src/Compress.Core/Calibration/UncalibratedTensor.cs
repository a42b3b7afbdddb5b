namespace Compress.Core.Calibration;

/// <summary>A tensor without a calibrated range, with the reason.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="Reason">Why there is no range.</param>
/// <param name="Detail">A sentence for reports, naming the graph or node involved.</param>
public sealed record UncalibratedTensor(string Name, UncalibratedReason Reason, string Detail)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Detail}";
}
