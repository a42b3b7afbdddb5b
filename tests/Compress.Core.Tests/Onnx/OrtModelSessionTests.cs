using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Tests.Passes;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Onnx;

/// <summary>
/// Sessions over in-memory models: bytes when the model fits in one protobuf message, a temporary file with external
/// data when it does not (the limit is lowered here; <c>SparseStorageOverTwoGigabytesTests</c> crosses the real one).
/// </summary>
public class OrtModelSessionTests
{
    [Test]
    public void ModelOverTheLimitRunsFromATemporaryFileThatIsGoneAfterDispose()
    {
        ModelProto model = SharedMaterial.LoadModel("digits-mlp");
        long size = OnnxModelFile.ToBytes(model).Length;
        using var options = new SessionOptions();
        float[] expected;
        using (OrtModelSession inMemory = OrtModelSession.Open(model, options, size))
        {
            Assert.That(inMemory.FromFile, Is.False, "exactly at the limit it still fits");
            expected = Run(inMemory.Session);
        }

        string folder;
        using (OrtModelSession fromFile = OrtModelSession.Open(model, options, size - 1))
        {
            Assert.That(fromFile.FromFile, Is.True);
            folder = TemporaryFolders().Single();
            Assert.That(string.Join(",", Directory.GetFiles(folder).Select(Path.GetFileName).Order()), Is.EqualTo("model.onnx,model.onnx.data"));
            Assert.That(Run(fromFile.Session), Is.EqualTo(expected), "the same outputs bit for bit");
        }

        Assert.That(Directory.Exists(folder), Is.False, "the temporary folder is deleted with the session");
    }

    [Test]
    public void ContentHashIsTheSameForEqualModelsAndChangesWithOneWeightByte()
    {
        ModelProto model = SharedMaterial.LoadModel("digits-mlp");
        ModelProto copy = model.Clone();
        Assert.That(ModelContentHash.Sha256(copy), Is.EqualTo(ModelContentHash.Sha256(model)));

        TensorProto weight = copy.Graph.Initializer.First(t => t.RawData.Length > 0);
        byte[] bytes = weight.RawData.ToByteArray();
        bytes[^1] ^= 1;
        weight.RawData = Google.Protobuf.ByteString.CopyFrom(bytes);
        Assert.That(ModelContentHash.Sha256(copy), Is.Not.EqualTo(ModelContentHash.Sha256(model)));

        ModelProto renamed = model.Clone();
        renamed.Graph.Node[0].Name += "_x";
        Assert.That(ModelContentHash.Sha256(renamed), Is.Not.EqualTo(ModelContentHash.Sha256(model)), "the graph counts too");
        Assert.That(model.Graph.Initializer.All(t => t.RawData.Length > 0), Is.True, "hashing leaves the model's tensors alone");
    }

    private static string[] TemporaryFolders() => Directory.GetDirectories(Path.GetTempPath(), "compress-ort-*")
        .Where(d => Directory.GetCreationTimeUtc(d) > DateTime.UtcNow.AddMinutes(-1) && File.Exists(Path.Combine(d, "model.onnx")))
        .ToArray();

    private static float[] Run(InferenceSession session)
    {
        float[] input = Enumerable.Range(0, 2 * 64).Select(i => (i % 17) / 16f).ToArray();
        var inputs = new Dictionary<string, (float[] Data, long[] Shape)> { [session.InputMetadata.Keys.Single()] = (input, [2, 64]) };
        return OrtRunner.Run(session, inputs, session.OutputNames[0]);
    }
}
