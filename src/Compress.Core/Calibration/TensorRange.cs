namespace Compress.Core.Calibration;

/// <summary>The calibrated range of one float tensor: the real values that quantization must represent.</summary>
/// <param name="Min">Lower end of the range.</param>
/// <param name="Max">Upper end of the range.</param>
public readonly record struct TensorRange(float Min, float Max);
