using Microsoft.ML.OnnxRuntime;

namespace Compress.Runtime;

/// <summary>
/// Everything one single-input float run needs, kept between calls: an I/O binding with its input and
/// output tensors and shape buffers. Used by one thread at a time (rented from a <see cref="BoundRunPool"/>).
/// </summary>
internal sealed unsafe class BoundRun : IDisposable
{
    private readonly OrtIoBinding _binding;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly BoundTensor _input;
    private readonly BoundTensor _output;

    public BoundRun(InferenceSession session, string inputName, string outputName, int inputRank, int outputRank)
    {
        _binding = session.CreateIoBinding();
        _inputName = inputName;
        _outputName = outputName;
        _input = new BoundTensor(inputRank);
        _output = new BoundTensor(outputRank);
        InputShape = new long[inputRank];
        OutputShape = new long[outputRank];
    }

    /// <summary>Scratch for the caller's input shape.</summary>
    public long[] InputShape { get; }

    /// <summary>Scratch for the resolved output shape.</summary>
    public long[] OutputShape { get; }

    /// <summary>Runs with <see cref="InputShape"/> and <see cref="OutputShape"/> over pinned caller memory.</summary>
    public void Run(InferenceSession session, RunOptions runOptions, float* input, long inputCount, float* output, long outputCount)
    {
        if (_input.Prepare(input, inputCount, InputShape))
        {
            _binding.BindInput(_inputName, _input.Value);
        }

        if (_output.Prepare(output, outputCount, OutputShape))
        {
            _binding.BindOutput(_outputName, _output.Value);
        }

        if (_input.IsStaged)
        {
            Buffer.MemoryCopy(input, _input.Stage, inputCount * sizeof(float), inputCount * sizeof(float));
        }

        session.RunWithBinding(runOptions, _binding);
        if (_output.IsStaged)
        {
            Buffer.MemoryCopy(_output.Stage, output, outputCount * sizeof(float), outputCount * sizeof(float));
        }
    }

    public void Dispose()
    {
        _binding.Dispose();
        _input.Dispose();
        _output.Dispose();
    }
}
