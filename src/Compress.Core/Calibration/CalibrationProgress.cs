namespace Compress.Core.Calibration;

/// <summary>Reported after every batch the model has run on.</summary>
/// <param name="SamplesDone">Samples processed so far.</param>
/// <param name="SamplesTotal">Samples that will be processed in all.</param>
/// <param name="BatchesDone">Batches processed so far.</param>
public readonly record struct CalibrationProgress(int SamplesDone, int SamplesTotal, int BatchesDone);
