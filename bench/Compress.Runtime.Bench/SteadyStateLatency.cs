using BenchmarkDotNet.Attributes;
using Compress.Runtime.Data;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Runtime.Bench;

/// <summary>
/// Steady-state latency of one inference through Compress.Runtime versus the fastest plain ONNX Runtime call
/// (pre-created OrtValues over pinned arrays, outputs pre-allocated), on the same model, data and session
/// settings (CPU, 1 intra-op thread, ORT_ENABLE_ALL). The raw call is the baseline of each case.
/// </summary>
[MemoryDiagnoser]
public class SteadyStateLatency
{
    private CompressedModel _model = null!;
    private InferenceSession _session = null!;
    private RunOptions _runOptions = null!;
    private float[] _input = null!;
    private long[] _inputShape = null!;
    private float[] _output = null!;
    private string[] _inputNames = null!;
    private string[] _outputNames = null!;
    private OrtValue[] _inputValues = null!;
    private OrtValue[] _outputValues = null!;

    /// <summary>The model and batch.</summary>
    [ParamsAllValues]
    public BenchCase Case { get; set; }

    /// <summary>Loads the model twice (ours and raw) and the first batch of its test set.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (string model, string data, int batch, int classes) = Case switch
        {
            BenchCase.DigitsBatch1 => ("digits-mlp.onnx", "digits_test_x.npy", 1, 10),
            BenchCase.DigitsBatch64 => ("digits-mlp.onnx", "digits_test_x.npy", 64, 10),
            _ => ("fashion-cnn.onnx", "fashion_test_x.npy", 64, 10),
        };
        NpyArray samples = NpyArray.Load(SharedMaterial.Data(data));
        long[] sampleShape = [.. samples.Shape.Skip(1)];
        long sampleSize = sampleShape.Aggregate(1L, (a, b) => a * b);
        _input = samples.AsSpan<float>()[..(int)(batch * sampleSize)].ToArray();
        _inputShape = [batch, .. sampleShape];
        _output = new float[batch * classes];

        _model = CompressedModel.Load(SharedMaterial.Model(model), new CompressedModelOptions { IntraOpNumThreads = 1 });

        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(SharedMaterial.Model(model), options);
        _runOptions = new RunOptions();
        _inputNames = [.. _session.InputNames];
        _outputNames = [_session.OutputNames[0]];
        _inputValues = [OrtValue.CreateTensorValueFromMemory(_input, _inputShape)];
        _outputValues = [OrtValue.CreateTensorValueFromMemory(_output, [batch, classes])];
    }

    /// <summary>Releases both sessions.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _inputValues[0].Dispose();
        _outputValues[0].Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _model.Dispose();
    }

    /// <summary>Plain ONNX Runtime: Run with pre-created input and output OrtValues.</summary>
    [Benchmark(Baseline = true, Description = "raw ORT Run(OrtValue in/out)")]
    public void RawOrt() => _session.Run(_runOptions, _inputNames, _inputValues, _outputNames, _outputValues);

    /// <summary>Compress.Runtime's span overload (output written into the caller's array).</summary>
    [Benchmark(Description = "CompressedModel.Run(span, shape, span)")]
    public void CompressedSpan() => _model.Run(_input, _inputShape, _output);

    /// <summary>Compress.Runtime's allocating overload (returns a new ModelOutput).</summary>
    [Benchmark(Description = "CompressedModel.Run(span, shape) -> ModelOutput")]
    public ModelOutput CompressedModelOutput() => _model.Run(_input, _inputShape);
}
