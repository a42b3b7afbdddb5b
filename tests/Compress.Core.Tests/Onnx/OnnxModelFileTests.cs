using System.Text;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Google.Protobuf;

namespace Compress.Core.Tests.Onnx;

public class OnnxModelFileTests
{
    [Test]
    public void LoadMissingFileFailsWithModelNotFound()
    {
        using var folder = new TempFolder();
        string path = folder.File("absent.onnx");

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Load(path));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ModelNotFound));
        Assert.That(e.Diagnostic.File, Is.EqualTo(path));
        Assert.That(e.Message, Does.Contain("absent.onnx"));
    }

    [TestCase("this is not a model")]
    [TestCase("")]
    [TestCase("version https://git-lfs.github.com/spec/v1\noid sha256:0\n")]
    public void LoadBytesThatAreNotAnOnnxModelFailWithModelInvalid(string content)
    {
        using var folder = new TempFolder();
        string path = folder.File("bad.onnx");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes(content));

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Load(path));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ModelInvalid));
        Assert.That(e.Diagnostic.File, Is.EqualTo(path));
        Assert.That(e.Message, Does.Contain("bad.onnx"));
        Assert.That(e.Diagnostic.ToString(), Does.StartWith($"{path}: error CMP1002: "));
    }

    [Test]
    public void LoadTruncatedModelFailsWithModelInvalid()
    {
        using var folder = new TempFolder();
        byte[] bytes = TestModels.WithTensorsEverywhere().ToByteArray();
        string path = folder.File("cut.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Load(path));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ModelInvalid));
    }

    [Test]
    public void SaveThenLoadGivesAnEqualModelWithTheSameBytesAsProtobuf()
    {
        using var folder = new TempFolder();
        ModelProto model = TestModels.WithTensorsEverywhere();
        string path = folder.File("m.onnx");

        OnnxModelFile.Save(model, path);

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(model.ToByteArray()));
        Assert.That(OnnxModelFile.Load(path), Is.EqualTo(model));
        Assert.That(folder.FileList(), Is.EqualTo("m.onnx"));
    }

    [Test]
    public void SaveIsDeterministicTwoSavesGiveIdenticalBytes()
    {
        using var folder = new TempFolder();
        var options = new OnnxSaveOptions { ExternalData = ExternalDataMode.Always };

        OnnxModelFile.Save(TestModels.WithTensorsEverywhere(), folder.File("a.onnx"), options);
        OnnxModelFile.Save(TestModels.WithTensorsEverywhere(), folder.File("b.onnx"), options with { ExternalDataFileName = "a.onnx.data" });
        OnnxModelFile.Save(OnnxModelFile.Load(folder.File("a.onnx")), folder.File("c.onnx"), options with { ExternalDataFileName = "a.onnx.data" });

        // b and c reference the same data file name as a, so all three model files must match byte for byte.
        byte[] a = File.ReadAllBytes(folder.File("a.onnx"));
        Assert.That(File.ReadAllBytes(folder.File("b.onnx")), Is.EqualTo(a));
        Assert.That(File.ReadAllBytes(folder.File("c.onnx")), Is.EqualTo(a));
        byte[] first = OnnxModelFile.ToBytes(TestModels.WithTensorsEverywhere());
        byte[] second = OnnxModelFile.ToBytes(OnnxModelFile.Load(new MemoryStream(first), baseDirectory: null));
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void UnknownFieldsSurviveLoadAndSave()
    {
        using var folder = new TempFolder();
        byte[] unknownField = UnknownLengthDelimitedField(fieldNumber: 1000, Encoding.ASCII.GetBytes("future-onnx-field"));
        byte[] bytes = [.. TestModels.WithTensorsEverywhere().ToByteArray(), .. unknownField];
        File.WriteAllBytes(folder.File("in.onnx"), bytes);

        ModelProto loaded = OnnxModelFile.Load(folder.File("in.onnx"));
        OnnxModelFile.Save(loaded, folder.File("out.onnx"));
        byte[] saved = File.ReadAllBytes(folder.File("out.onnx"));

        Assert.That(loaded, Is.Not.EqualTo(TestModels.WithTensorsEverywhere()), "the unknown field is part of the loaded message");
        Assert.That(IndexOf(saved, unknownField), Is.GreaterThanOrEqualTo(0), "the unknown field is written back");
        Assert.That(saved, Is.EqualTo(bytes));
    }

    [Test]
    public void SaveFailureBeforeCommitKeepsOldFileAndLeavesNoTempFiles()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.onnx");
        byte[] old = Encoding.ASCII.GetBytes("old model content");
        File.WriteAllBytes(path, old);
        File.WriteAllBytes(folder.File("m.onnx.data"), old);

        foreach (ExternalDataMode mode in new[] { ExternalDataMode.Never, ExternalDataMode.Always })
        {
            var options = new OnnxSaveOptions { ExternalData = mode, BeforeCommit = () => throw new IOException("simulated disk failure") };

            var e = Assert.Throws<CompressException>(() => OnnxModelFile.Save(TestModels.WithTensorsEverywhere(), path, options));

            Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ModelWriteFailed), mode.ToString());
            Assert.That(e.Message, Does.Contain("simulated disk failure"));
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(old), mode.ToString());
            Assert.That(File.ReadAllBytes(folder.File("m.onnx.data")), Is.EqualTo(old), mode.ToString());
            Assert.That(folder.FileList(), Is.EqualTo("m.onnx,m.onnx.data"), mode.ToString());
        }
    }

    [Test]
    public void SaveOverAnExistingFileReplacesItAndLeavesNoTempFiles()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.onnx");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("old"));

        OnnxModelFile.Save(TestModels.WithTensorsEverywhere(), path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });
        OnnxModelFile.Save(TestModels.WithTensorsEverywhere(), path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });

        Assert.That(folder.FileList(), Is.EqualTo("m.onnx,m.onnx.data"));
        Assert.That(OnnxModelFile.Load(path), Is.EqualTo(TestModels.WithTensorsEverywhere()));
    }

    [Test]
    public void SaveIntoMissingFolderFailsWithWriteFailed()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "no-such-folder", "m.onnx");

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Save(TestModels.WithTensorsEverywhere(), path));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ModelWriteFailed));
        Assert.That(e.Diagnostic.File, Is.EqualTo(path));
        Assert.That(folder.FileList(), Is.Empty);
    }

    [Test]
    public void SaveOverAFolderFailsWithWriteFailedAndRemovesTempFile()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.onnx");
        Directory.CreateDirectory(path);

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Save(TestModels.WithTensorsEverywhere(), path));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ModelWriteFailed));
        Assert.That(folder.FileList(), Is.Empty);
        Assert.That(Directory.Exists(path), Is.True);
    }

    [Test]
    public void SaveToStreamWritesTheModelBytes()
    {
        ModelProto model = TestModels.WithTensorsEverywhere();
        using var stream = new MemoryStream();

        OnnxModelFile.Save(model, stream);

        Assert.That(stream.ToArray(), Is.EqualTo(model.ToByteArray()));
        stream.Position = 0;
        Assert.That(OnnxModelFile.Load(stream, baseDirectory: null), Is.EqualTo(model));
    }

    private static byte[] UnknownLengthDelimitedField(int fieldNumber, byte[] payload)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(fieldNumber, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(payload));
        output.Flush();
        return buffer.ToArray();
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
