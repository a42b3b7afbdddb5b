namespace Compress.Quantization.Bench;

/// <summary>A shared model, the data its latency is measured on, and its calibration data.</summary>
internal sealed record BenchModel(string Name, string TestData, string CalibrationData, int BatchSize, bool WeightDominated);
