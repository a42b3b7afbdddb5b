using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Tests.Onnx;

/// <summary>
/// The real models in ../shared/models survive load → save → load, save byte-identically a second
/// time, and the saved files (inline and with external data) give ORT outputs identical to the originals.
/// </summary>
public class SharedModelRoundTripTests
{
    private static readonly string[] Models = ["digits-mlp.onnx", "fashion-cnn.onnx", "ocr-cls.onnx", "ocr-det.onnx", "silero-vad-v4.onnx"];

    [TestCaseSource(nameof(Models))]
    public void LoadSaveLoadGivesEqualModelAndStableBytes(string modelName)
    {
        string original = SharedModel(modelName);
        using var folder = new TempFolder();
        string first = folder.File("first.onnx");
        string second = folder.File("second.onnx");

        ModelProto loaded = OnnxModelFile.Load(original);
        OnnxModelFile.Save(loaded, first);
        ModelProto reloaded = OnnxModelFile.Load(first);
        OnnxModelFile.Save(reloaded, second);

        Assert.That(reloaded, Is.EqualTo(loaded));
        Assert.That(File.ReadAllBytes(second), Is.EqualTo(File.ReadAllBytes(first)));
    }

    [TestCaseSource(nameof(Models))]
    public void SavedModelGivesIdenticalOrtOutputs(string modelName)
    {
        string original = SharedModel(modelName);
        using var folder = new TempFolder();
        string saved = folder.File(modelName);
        OnnxModelFile.Save(OnnxModelFile.Load(original), saved);

        AssertSameOutputs(original, saved);
    }

    [TestCaseSource(nameof(Models))]
    public void SavedWithExternalDataGivesIdenticalOrtOutputs(string modelName)
    {
        string original = SharedModel(modelName);
        using var folder = new TempFolder();
        string saved = folder.File(modelName);
        OnnxModelFile.Save(OnnxModelFile.Load(original), saved, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });

        Assert.That(new FileInfo(saved + ".data").Length, Is.GreaterThan(new FileInfo(saved).Length), "most bytes moved to the data file");
        Assert.That(OnnxModelFile.Load(saved), Is.EqualTo(OnnxModelFile.Load(original)));
        AssertSameOutputs(original, saved);
    }

    private static void AssertSameOutputs(string originalPath, string savedPath)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var expectedSession = new InferenceSession(originalPath, options);
        using var actualSession = new InferenceSession(savedPath, options);
        List<TensorProto> inputs = SimpleInputs(expectedSession);

        List<TensorProto> expected = Run(expectedSession, inputs);
        List<TensorProto> actual = Run(actualSession, inputs);

        Assert.That(actual.Select(t => t.Name), Is.EqualTo(expected.Select(t => t.Name)));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.That(actual[i].Dims, Is.EqualTo(expected[i].Dims), expected[i].Name);
            Assert.That(actual[i].RawData.ToByteArray(), Is.EqualTo(expected[i].RawData.ToByteArray()), $"output '{expected[i].Name}' bit for bit");
        }
    }

    private static List<TensorProto> Run(InferenceSession session, List<TensorProto> inputs)
    {
        var values = inputs.Select(OnnxTensorConverter.ToOrtValue).ToList();
        try
        {
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, [.. inputs.Select(t => t.Name)], values, [.. session.OutputNames]);
            return [.. outputs.Select((value, i) => OnnxTensorConverter.ToTensorProto(value, session.OutputNames[i]))];
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    /// <summary>
    /// One deterministic, non-constant sample per input: symbolic dims become 1 (batch), except Silero's
    /// audio length (1536 samples, its streaming step) and the OCR image sizes (64, a multiple of 32);
    /// Silero's sr is 16000.
    /// </summary>
    private static List<TensorProto> SimpleInputs(InferenceSession session)
    {
        var inputs = new List<TensorProto>();
        foreach ((string name, NodeMetadata meta) in session.InputMetadata)
        {
            long[] dims = [.. meta.Dimensions.Select((d, axis) => d >= 0 ? d : SymbolicSize(meta.SymbolicDimensions[axis], axis))];
            long count = dims.Aggregate(1L, (a, b) => a * b);
            inputs.Add(meta.ElementDataType switch
            {
                TensorElementType.Float => TensorData.CreateFloat(name, dims, [.. Enumerable.Range(0, (int)count).Select(i => 0.5f * MathF.Sin(i * 0.37f))]),
                TensorElementType.Int64 when name == "sr" => TensorData.CreateInt64(name, dims, [16000]),
                TensorElementType.Int64 => TensorData.CreateInt64(name, dims, new long[count]),
                _ => throw new NotSupportedException($"input '{name}' of type {meta.ElementDataType}"),
            });
        }

        return inputs;
    }

    private static long SymbolicSize(string symbol, int axis) => symbol switch
    {
        "sequence" => 1536,
        _ when axis == 0 || symbol == "batch" => 1,
        _ => 64,
    };

    private static string SharedModel(string name)
    {
        string path = Path.Combine(TestPaths.SharedModels, name);
        Assert.That(path, Does.Exist, "shared models live in ../shared/models beside the checkout");
        return path;
    }
}
