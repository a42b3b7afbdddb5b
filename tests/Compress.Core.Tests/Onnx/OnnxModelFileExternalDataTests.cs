using System.Globalization;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Google.Protobuf;

namespace Compress.Core.Tests.Onnx;

public class OnnxModelFileExternalDataTests
{
    [Test]
    public void AlwaysModeWritesLargeTensorsToDataFileAndLoadRestoresEqualModel()
    {
        using var folder = new TempFolder();
        ModelProto original = TestModels.WithTensorsEverywhere();
        ModelProto before = original.Clone();
        string path = folder.File("model.onnx");

        OnnxModelFile.Save(original, path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });

        Assert.That(original, Is.EqualTo(before), "Save must not change the caller's model");
        Assert.That(folder.FileList(), Is.EqualTo("model.onnx,model.onnx.data"));

        ModelProto references = OnnxModelFile.Load(path, new OnnxLoadOptions { LoadExternalData = false });
        var external = OnnxModelWalker.Tensors(references).Where(s => TensorData.IsExternal(s.Tensor)).Select(s => s.Tensor).ToList();
        Assert.That(external.Select(t => t.Name), Is.EquivalentTo(TestModels.LargeTensorNames));
        foreach (TensorProto tensor in external)
        {
            Assert.That(tensor.HasRawData, Is.False);
            Assert.That(tensor.ExternalData.Single(e => e.Key == "location").Value, Is.EqualTo("model.onnx.data"));
            long offset = long.Parse(tensor.ExternalData.Single(e => e.Key == "offset").Value, CultureInfo.InvariantCulture);
            Assert.That(offset % 4096, Is.Zero, $"offset of {tensor.Name} is aligned to 4096");
        }

        Assert.That(TestModels.TensorsByName(references)["B"].HasRawData, Is.True, "a 256-byte tensor stays inline");

        ModelProto loaded = OnnxModelFile.Load(path);
        Assert.That(loaded, Is.EqualTo(original));
        Assert.That(TensorData.ReadFloats(TestModels.TensorsByName(loaded)["W"]), Is.EqualTo(TensorData.ReadFloats(TestModels.TensorsByName(original)["W"])));
        Assert.That(OnnxModelWalker.Tensors(loaded).Any(s => s.Tensor.HasDataLocation || s.Tensor.ExternalData.Count > 0), Is.False);
    }

    [Test]
    public void AlignmentOnePacksTensorsBackToBack()
    {
        using var folder = new TempFolder();
        ModelProto model = TestModels.WithTensorsEverywhere();
        string path = folder.File("m.onnx");

        OnnxModelFile.Save(model, path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always, ExternalDataAlignment = 1, ExternalDataFileName = "weights.bin" });

        long expected = TestModels.LargeTensorNames.Sum(n => (long)TestModels.TensorsByName(model)[n].RawData.Length);
        Assert.That(new FileInfo(folder.File("weights.bin")).Length, Is.EqualTo(expected));
        Assert.That(OnnxModelFile.Load(path), Is.EqualTo(model));
    }

    [Test]
    public void AutoModeUsesExternalDataOnlyWhenOverTheLimit()
    {
        using var folder = new TempFolder();
        ModelProto model = TestModels.WithTensorsEverywhere();
        int size = model.CalculateSize();

        OnnxModelFile.Save(model, folder.File("fits.onnx"), new OnnxSaveOptions { SizeLimitBytes = size });
        Assert.That(folder.FileList(), Is.EqualTo("fits.onnx"));
        Assert.That(new FileInfo(folder.File("fits.onnx")).Length, Is.EqualTo(size));

        OnnxModelFile.Save(model, folder.File("big.onnx"), new OnnxSaveOptions { SizeLimitBytes = size - 1 });
        Assert.That(folder.FileList(), Is.EqualTo("big.onnx,big.onnx.data,fits.onnx"));
        Assert.That(new FileInfo(folder.File("big.onnx")).Length, Is.LessThan(size / 4));
        Assert.That(OnnxModelFile.Load(folder.File("big.onnx")), Is.EqualTo(model));
    }

    [Test]
    public void NeverModeOverTheLimitFailsWithModelTooLargeAndWritesNothing()
    {
        using var folder = new TempFolder();
        ModelProto model = TestModels.WithTensorsEverywhere();

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Save(
            model, folder.File("m.onnx"), new OnnxSaveOptions { ExternalData = ExternalDataMode.Never, SizeLimitBytes = 4096 }));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ModelTooLarge));
        Assert.That(e.Message, Does.Contain("external data"));
        Assert.That(folder.FileList(), Is.Empty);
    }

    [Test]
    public void AutoModeStillTooLargeAfterExternalizingFailsWithModelTooLargeAndWritesNothing()
    {
        using var folder = new TempFolder();

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Save(
            TestModels.WithTensorsEverywhere(), folder.File("m.onnx"), new OnnxSaveOptions { SizeLimitBytes = 100 }));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ModelTooLarge));
        Assert.That(e.Message, Does.Contain("MinExternalTensorBytes"));
        Assert.That(folder.FileList(), Is.Empty);
    }

    [TestCase("../w.bin")]
    [TestCase("sub/../../w.bin")]
    [TestCase("ABSOLUTE")]
    public void LoadLocationOutsideModelFolderFailsWithLocationInvalid(string location)
    {
        using var outer = new TempFolder();
        string modelFolder = Path.Combine(outer.Path, "model");
        Directory.CreateDirectory(modelFolder);
        string weights = outer.File("w.bin");
        File.WriteAllBytes(weights, new byte[64]); // exists, so only the location rule can reject it
        if (location == "ABSOLUTE")
        {
            location = weights;
        }

        string path = Path.Combine(modelFolder, "m.onnx");
        File.WriteAllBytes(path, ModelWithExternalTensor("weights", location, offset: 0, length: 64).ToByteArray());

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Load(path));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ExternalDataLocationInvalid));
        Assert.That(e.Message, Does.Contain("'weights'").And.Contain($"'{location}'"));
        Assert.That(e.Diagnostic.File, Is.EqualTo(path));
    }

    [TestCase("../w.bin")]
    [TestCase("/tmp/w.bin")]
    [TestCase("sub/w.bin")]
    [TestCase("model.onnx")]
    public void SaveDataFileNameThatIsNotAPlainNameFailsWithLocationInvalidAndWritesNothing(string name)
    {
        using var outer = new TempFolder();
        string modelFolder = Path.Combine(outer.Path, "model");
        Directory.CreateDirectory(Path.Combine(modelFolder, "sub"));

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Save(
            TestModels.WithTensorsEverywhere(),
            Path.Combine(modelFolder, "model.onnx"),
            new OnnxSaveOptions { ExternalData = ExternalDataMode.Always, ExternalDataFileName = name }));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ExternalDataLocationInvalid));
        Assert.That(e.Message, Does.Contain($"'{name}'"));
        Assert.That(outer.FileList(), Is.Empty);
        Assert.That(File.Exists("/tmp/w.bin"), Is.False);
    }

    [Test]
    public void LoadMissingDataFileFailsWithExternalDataUnreadable()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.onnx");
        OnnxModelFile.Save(TestModels.WithTensorsEverywhere(), path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });
        File.Delete(folder.File("m.onnx.data"));

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Load(path));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ExternalDataUnreadable));
        Assert.That(e.Message, Does.Contain("m.onnx.data"));
    }

    [Test]
    public void LoadTruncatedDataFileFailsWithExternalDataUnreadable()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.onnx");
        OnnxModelFile.Save(TestModels.WithTensorsEverywhere(), path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });
        string data = folder.File("m.onnx.data");
        using (var stream = new FileStream(data, FileMode.Open))
        {
            stream.SetLength(stream.Length - 1);
        }

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Load(path));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ExternalDataUnreadable));
        Assert.That(e.Message, Does.Contain("beyond the end of the file"));
    }

    [Test]
    public void LoadOffsetBeyondEndOfFileFailsWithExternalDataUnreadable()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(folder.File("w.bin"), new byte[64]);
        string path = folder.File("m.onnx");
        File.WriteAllBytes(path, ModelWithExternalTensor("weights", "w.bin", offset: 4096, length: 64).ToByteArray());

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Load(path));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ExternalDataUnreadable));
        Assert.That(e.Message, Does.Contain("'weights'"));
    }

    [Test]
    public void LoadExternalDataWithOffsetAndLengthReadsThatSlice()
    {
        using var folder = new TempFolder();
        float[] values = [1.5f, -2f, 3.25f, 4f];
        byte[] file = new byte[100];
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(file.AsSpan(20));
        File.WriteAllBytes(folder.File("w.bin"), file);
        string path = folder.File("m.onnx");
        File.WriteAllBytes(path, ModelWithExternalTensor("weights", "w.bin", offset: 20, length: 16).ToByteArray());

        TensorProto loaded = OnnxModelFile.Load(path).Graph.Initializer.Single();

        Assert.That(TensorData.ReadFloats(loaded), Is.EqualTo(values));
        Assert.That(loaded.HasDataLocation, Is.False);
        Assert.That(loaded.ExternalData, Is.Empty);
    }

    [Test]
    public void LoadFromStreamWithExternalDataAndNoBaseDirectoryFailsWithExternalDataUnreadable()
    {
        byte[] bytes = ModelWithExternalTensor("weights", "w.bin", offset: 0, length: 16).ToByteArray();

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Load(new MemoryStream(bytes), baseDirectory: null));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ExternalDataUnreadable));
        Assert.That(e.Message, Does.Contain("baseDirectory"));
    }

    [Test]
    public void LoadFromStreamWithBaseDirectoryReadsExternalData()
    {
        using var folder = new TempFolder();
        OnnxModelFile.Save(TestModels.WithTensorsEverywhere(), folder.File("m.onnx"), new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });

        using FileStream stream = File.OpenRead(folder.File("m.onnx"));
        ModelProto loaded = OnnxModelFile.Load(stream, folder.Path);

        Assert.That(loaded, Is.EqualTo(TestModels.WithTensorsEverywhere()));
    }

    [Test]
    public void SaveModelWithUnloadedExternalReferencesFailsWithWriteFailed()
    {
        using var folder = new TempFolder();
        ModelProto model = ModelWithExternalTensor("weights", "w.bin", offset: 0, length: 16);

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Save(model, folder.File("m.onnx")));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ModelWriteFailed));
        Assert.That(e.Message, Does.Contain("LoadExternalData"));
        Assert.That(folder.FileList(), Is.Empty);
    }

    private static ModelProto ModelWithExternalTensor(string name, string location, long offset, long length)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        tensor.Dims.Add(length / 4);
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(CultureInfo.InvariantCulture) });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(CultureInfo.InvariantCulture) });
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(tensor);
        return new ModelProto { IrVersion = 8, Graph = graph, OpsetImport = { new OperatorSetIdProto { Version = 17 } } };
    }
}
