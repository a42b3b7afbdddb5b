using Compress.Core.Calibration;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Tests.Onnx;
using Compress.Core.Tests.Passes;
using Google.Protobuf;

namespace Compress.Core.Tests.Calibration;

/// <summary>Every data mistake gives its code and names the file.</summary>
[TestFixture]
public sealed class CalibrationDataSetErrorTests
{
    private const int Steps = 4;
    private TempFolder _folder = null!;
    private ModelProto _silero = null!;

    [OneTimeSetUp]
    public void LoadModel() => _silero = SharedMaterial.LoadModel("silero-vad-v4");

    [SetUp]
    public void CreateFolder() => _folder = new TempFolder();

    [TearDown]
    public void DeleteFolder() => _folder.Dispose();

    [Test]
    public void MissingFileIsCmp0014()
    {
        string path = _folder.File("nothing.npz");
        CompressException e = OpenFails([path]);
        Assert.That(e.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.DataFileMissing));
        Assert.That(e.Diagnostic.File, Is.EqualTo(path));
        Assert.That(e.Message, Does.Contain("nothing.npz"));
    }

    [Test]
    public void GlobMatchingNothingIsCmp0014()
    {
        string pattern = Path.Combine(_folder.Path, "*.npz");
        CompressException e = OpenFails([pattern]);
        Assert.That(e.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.DataFileMissing));
        Assert.That(e.Message, Does.Contain("matches no file"));
    }

    [Test]
    public void UnreadableNpzIsCmp1007()
    {
        string path = _folder.File("broken.npz");
        File.WriteAllText(path, "not a zip");
        AssertInvalid(OpenFails([path]), path, "broken.npz");
    }

    [Test]
    public void NpyForAModelWithSeveralInputsIsCmp1007()
    {
        string path = _folder.File("x.npy");
        NpyTestFiles.WriteFloats(path, [Steps, 1536], new float[Steps * 1536]);
        AssertInvalid(OpenFails([path]), path, "x.npy", "4 inputs");
    }

    [Test]
    public void MissingArrayForAnInputIsCmp1007()
    {
        string path = WriteSilero(omit: "c");
        AssertInvalid(OpenFails([path]), path, "vad.npz", "no array for model input 'c'");
    }

    [Test]
    public void WrongRankIsCmp1007()
    {
        string path = WriteSilero(h: NpyTestFiles.Floats([Steps, 128], new float[Steps * 128]));
        AssertInvalid(OpenFails([path]), path, "vad.npz:h.npy", "[2,batch,64]");
    }

    [Test]
    public void WrongFixedDimensionIsCmp1007()
    {
        string path = WriteSilero(h: NpyTestFiles.Floats([Steps, 2, 32], new float[Steps * 64]));
        AssertInvalid(OpenFails([path]), path, "vad.npz:h.npy", "[2,batch,64]");
    }

    [Test]
    public void WrongElementTypeSaysWhichTypesFit()
    {
        // sr is an int64 input: float data cannot feed it.
        string path = WriteSilero(sr: NpyTestFiles.Create("<f4", [], BitConverter.GetBytes(16000f)));
        AssertInvalid(OpenFails([path]), path, "vad.npz:sr.npy", "float32", "int64");
    }

    [Test]
    public void DifferentSampleCountsAreCmp1007()
    {
        string path = WriteSilero(c: NpyTestFiles.Floats([Steps - 1, 2, 64], new float[(Steps - 1) * 128]));
        AssertInvalid(OpenFails([path]), path, "vad.npz", "different sample counts");
    }

    [Test]
    public void InvalidTensorProtoIsCmp1007()
    {
        string pb = _folder.File("input_0.pb");
        File.WriteAllBytes(pb, [0xFF, 0xFF, 0xFF]);
        ModelProto model = CalibrationModels.ReluMatMul();
        CompressException e = Assert.Throws<CompressException>(() => CalibrationDataSet.Open([_folder.Path], model))!;
        AssertInvalid(e, pb, "input_0.pb");
    }

    [Test]
    public void FolderWithoutDataIsCmp1007()
    {
        File.WriteAllText(_folder.File("readme.txt"), "no data");
        CompressException e = OpenFails([_folder.Path]);
        AssertInvalid(e, _folder.Path, Path.GetFileName(_folder.Path), "no calibration data");
    }

    [Test]
    public void GlobAndFolderConcatenateFilesInOrdinalOrder()
    {
        ModelProto model = CalibrationModels.ReluMatMul();
        // b.npy holds 2 rows of 2s, a.npy 3 rows of 1s: a comes first whatever the creation order.
        NpyTestFiles.WriteFloats(_folder.File("b.npy"), [2, CalibrationModels.Features], Enumerable.Repeat(2f, 2 * CalibrationModels.Features).ToArray());
        NpyTestFiles.WriteFloats(_folder.File("a.npy"), [3, CalibrationModels.Features], Enumerable.Repeat(1f, 3 * CalibrationModels.Features).ToArray());
        Assert.That(Compress.Core.IO.PathGlob.Expand(Path.Combine(_folder.Path, "*.npy")), Is.EqualTo(new[] { _folder.File("a.npy"), _folder.File("b.npy") }));

        foreach (string source in new[] { Path.Combine(_folder.Path, "*.npy"), _folder.Path })
        {
            CalibrationDataSet data = CalibrationDataSet.Open([source], model);
            var firstValues = new List<(int Count, float Value)>();
            foreach (CalibrationBatch batch in data.ReadBatches(16))
            {
                using (batch)
                {
                    firstValues.Add((batch.SampleCount, batch.Values[0].GetTensorDataAsSpan<float>()[0]));
                }
            }

            // A batch never spans two files.
            Assert.That(firstValues, Is.EqualTo(new[] { (3, 1f), (2, 2f) }), source);
        }
    }

    [Test]
    public void BackendTestSetsAreOneBatchedSampleEach()
    {
        ModelProto model = CalibrationModels.ReluMatMul();
        float[] x = TinyModels.RandomValues(3 * CalibrationModels.Features, 30);
        for (int set = 0; set < 3; set++)
        {
            string folder = Path.Combine(_folder.Path, $"test_data_set_{set}");
            Directory.CreateDirectory(folder);
            TensorProto tensor = TensorData.CreateFloat("X", [1, CalibrationModels.Features], x.AsSpan(set * CalibrationModels.Features, CalibrationModels.Features));
            File.WriteAllBytes(Path.Combine(folder, "input_0.pb"), tensor.ToByteArray());
        }

        CalibrationDataSet data = CalibrationDataSet.Open([_folder.Path], model);
        Assert.That(data.SampleCount, Is.EqualTo(3));
        CalibrationResult result = Calibrator.Calibrate(model, data, new CalibrationOptions());
        Assert.That(result.Ranges["X"], Is.EqualTo(new TensorRange(x.Min(), x.Max())));
    }

    [Test]
    public void FixedBatchOfOneRunsOneSampleAtATime()
    {
        ModelProto model = CalibrationModels.ReluMatMul();
        model.Graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimValue = 1 };
        string path = _folder.File("x.npy");
        NpyTestFiles.WriteFloats(path, [5, CalibrationModels.Features], TinyModels.RandomValues(5 * CalibrationModels.Features, 31));
        CalibrationDataSet data = CalibrationDataSet.Open([path], model);
        Assert.That(data.MaxBatchSize, Is.EqualTo(1));
        CalibrationResult result = Calibrator.Calibrate(model, data, new CalibrationOptions { BatchSize = 16 });
        Assert.That(result.BatchesRun, Is.EqualTo(5));
    }

    private CompressException OpenFails(IReadOnlyList<string> paths) =>
        Assert.Throws<CompressException>(() => CalibrationDataSet.Open(paths, _silero))!;

    private static void AssertInvalid(CompressException e, string file, params string[] messageParts)
    {
        Assert.That(e.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.DataFileInvalid), e.Message);
        Assert.That(e.Diagnostic.File, Is.EqualTo(file));
        foreach (string part in messageParts)
        {
            Assert.That(e.Message, Does.Contain(part));
        }
    }

    /// <summary>A Silero-shaped .npz of <see cref="Steps"/> samples with one array replaced or left out.</summary>
    private string WriteSilero(string? omit = null, byte[]? h = null, byte[]? c = null, byte[]? sr = null)
    {
        var arrays = new Dictionary<string, byte[]>
        {
            ["input"] = NpyTestFiles.Floats([Steps, 1536], new float[Steps * 1536]),
            ["sr"] = sr ?? NpyTestFiles.Create("<i8", [], BitConverter.GetBytes(16000L)),
            ["h"] = h ?? NpyTestFiles.Floats([Steps, 2, 64], new float[Steps * 128]),
            ["c"] = c ?? NpyTestFiles.Floats([Steps, 2, 64], new float[Steps * 128]),
        };
        if (omit is not null)
        {
            arrays.Remove(omit);
        }

        string path = _folder.File("vad.npz");
        NpyTestFiles.WriteNpz(path, arrays);
        return path;
    }
}
