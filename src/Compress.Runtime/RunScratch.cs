using Microsoft.ML.OnnxRuntime;

namespace Compress.Runtime;

/// <summary>
/// Reusable per-call arrays for the allocation-free single-input run. One instance is used by one
/// thread at a time (see <see cref="CompressedModel"/>'s rent/return slot).
/// </summary>
internal sealed class RunScratch
{
    public RunScratch(int inputRank, int outputRank)
    {
        InputShape = new long[inputRank];
        OutputShape = new long[outputRank];
    }

    public long[] InputShape { get; }

    public long[] OutputShape { get; }

    public OrtValue[] Inputs { get; } = new OrtValue[1];

    public OrtValue[] Outputs { get; } = new OrtValue[1];

    /// <summary>Drops the references to the per-call values (which the caller disposes).</summary>
    public void Clear()
    {
        Inputs[0] = null!;
        Outputs[0] = null!;
    }
}
