using System.IO.Compression;

namespace Compress.Runtime.Tests;

public class LoadingTests
{
    private string _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("compress-runtime-tests-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void StreamAndBrotliCopiesGiveTheSameOutputsAsTheFile()
    {
        string brotliPath = Path.Combine(_folder, "digits-mlp.onnx.br");
        using (FileStream source = File.OpenRead(Digits.ModelPath))
        using (FileStream target = File.Create(brotliPath))
        using (var brotli = new BrotliStream(target, CompressionLevel.SmallestSize))
        {
            source.CopyTo(brotli);
        }

        float[] fromFile, fromStream, fromBrotliFile, fromBrotliStream;
        using (CompressedModel model = CompressedModel.Load(Digits.ModelPath))
        {
            fromFile = Digits.RunRowByRow(model);
        }

        using (FileStream stream = File.OpenRead(Digits.ModelPath))
        using (CompressedModel model = CompressedModel.Load(stream, "digits-mlp.onnx"))
        {
            Assert.That(model.Name, Is.EqualTo("digits-mlp"));
            fromStream = Digits.RunRowByRow(model);
        }

        using (CompressedModel model = CompressedModel.Load(brotliPath))
        {
            Assert.That(model.Name, Is.EqualTo("digits-mlp"));
            fromBrotliFile = Digits.RunRowByRow(model);
        }

        using (FileStream stream = File.OpenRead(brotliPath))
        using (CompressedModel model = CompressedModel.Load(stream, "digits-mlp.onnx.br"))
        {
            fromBrotliStream = Digits.RunRowByRow(model);
        }

        Assert.That(new FileInfo(brotliPath).Length, Is.LessThan(new FileInfo(Digits.ModelPath).Length));
        using (CompressedModel model = CompressedModel.Load(brotliPath))
        {
            // The stored (compressed) size and the full path, for load logs.
            Assert.That(model.SizeInBytes, Is.EqualTo(new FileInfo(brotliPath).Length));
            Assert.That(model.Source, Is.EqualTo(Path.GetFullPath(brotliPath)));
            Assert.That(model.LoadTime, Is.GreaterThan(TimeSpan.Zero));
        }

        using (FileStream stream = File.OpenRead(brotliPath))
        using (CompressedModel model = CompressedModel.Load(stream, "digits-mlp.onnx.br"))
        {
            Assert.That(model.SizeInBytes, Is.EqualTo(new FileInfo(brotliPath).Length));
            Assert.That(model.Source, Is.EqualTo("stream 'digits-mlp.onnx.br'"));
        }

        Assert.That(fromStream, Is.EqualTo(fromFile));
        Assert.That(fromBrotliFile, Is.EqualTo(fromFile));
        Assert.That(fromBrotliStream, Is.EqualTo(fromFile));
    }

    [Test]
    public void MissingFileNamesTheModelAndThePath()
    {
        string path = Path.Combine(_folder, "absent-model.onnx");

        var e = Assert.Throws<CompressedModelException>(() => CompressedModel.Load(path));

        Assert.That(e!.ModelName, Is.EqualTo("absent-model"));
        Assert.That(e.Message, Does.Contain("'absent-model' was not found").And.Contain(path));
    }

    [Test]
    public void GarbageFileNamesTheModel()
    {
        string path = Path.Combine(_folder, "garbage.onnx");
        File.WriteAllBytes(path, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 131 % 251))]);

        var e = Assert.Throws<CompressedModelException>(() => CompressedModel.Load(path));

        Assert.That(e!.ModelName, Is.EqualTo("garbage"));
        Assert.That(e.Message, Does.StartWith("Model 'garbage' could not be loaded"));
        Assert.That(e.InnerException, Is.Not.Null);
    }

    [Test]
    public void GarbageBrotliFileNamesTheModel()
    {
        string path = Path.Combine(_folder, "broken.onnx.br");
        File.WriteAllBytes(path, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 131 % 251))]);

        var e = Assert.Throws<CompressedModelException>(() => CompressedModel.Load(path));

        Assert.That(e!.ModelName, Is.EqualTo("broken"));
        Assert.That(e.Message, Does.Contain("'broken'"));
    }

    [Test]
    public void MetadataPropsAreExposed()
    {
        byte[] withMetadata = ModelBytes.WithMetadata(File.ReadAllBytes(Digits.ModelPath), ("compress.scheme", "int8-dynamic"), ("compress.version", "0.1.0"));

        using CompressedModel loaded = CompressedModel.Load(new MemoryStream(withMetadata), "tagged.onnx");

        Assert.That(loaded.Metadata, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["compress.scheme"] = "int8-dynamic",
            ["compress.version"] = "0.1.0",
        }));
    }

    [Test]
    public void OptionsReachTheSessionAndTheHookRunsLast()
    {
        int intraOpSeen = -1;
        var options = new CompressedModelOptions
        {
            IntraOpNumThreads = 1,
            GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            ConfigureSessionOptions = so =>
            {
                intraOpSeen = so.IntraOpNumThreads;
                Assert.That(so.GraphOptimizationLevel, Is.EqualTo(Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_BASIC));
            },
        };

        using CompressedModel model = CompressedModel.Load(Digits.ModelPath, options);

        Assert.That(intraOpSeen, Is.EqualTo(1));
    }

    [Test]
    public void DefaultOptionsSuitQuantizedModels()
    {
        var options = new CompressedModelOptions();

        Assert.That(options.IntraOpNumThreads, Is.Zero);
        Assert.That(options.GraphOptimizationLevel, Is.EqualTo(Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL));
        Assert.That(options.PreciseQuantizedMatMul, Is.True);
        Assert.That(options.EnableMemoryPattern, Is.True);
        Assert.That(options.ExecutionMode, Is.EqualTo(Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_SEQUENTIAL));
    }
}
