namespace Compress.Core.Calibration;

/// <summary>Sees every calibrated tensor of every batch (tests use it to check what collectors receive).</summary>
internal delegate void ActivationObserver(string tensorName, ReadOnlySpan<float> values);
