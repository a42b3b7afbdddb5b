namespace Compress.Runtime.Tests;

public class CompressionInfoTests
{
    [Test]
    public void ModelBuiltByCompressExposesTypedInformation()
    {
        byte[] tagged = ModelBytes.WithMetadata(File.ReadAllBytes(Digits.ModelPath),
            ("compress.version", "0.1.0"),
            ("compress.source_sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            ("compress.passes", "quantize, prune"),
            ("compress.nodes_quantized", "3"));

        using CompressedModel model = CompressedModel.Load(new MemoryStream(tagged), "tagged.onnx");

        CompressionInfo? info = model.Compression;
        Assert.That(info, Is.Not.Null);
        Assert.That(info!.Version, Is.EqualTo("0.1.0"));
        Assert.That(info.SourceSha256, Is.EqualTo("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
        Assert.That(info.Passes, Is.EqualTo(new[] { "quantize", "prune" }));
        Assert.That(info.NodesQuantized, Is.EqualTo(3));
        Assert.That(info.ToString(), Is.EqualTo(
            "Compress 0.1.0, passes quantize,prune, 3 nodes quantized, source sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
    }

    [Test]
    public void ModelWithoutCompressMetadataHasNoCompressionInfo()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);

        Assert.That(model.Compression, Is.Null);
    }

    [Test]
    public void PartialOrMalformedEntriesLeaveTheOthersEmpty()
    {
        CompressionInfo? info = CompressionInfo.FromMetadata(new Dictionary<string, string>
        {
            ["compress.nodes_quantized"] = "many",
            ["other.key"] = "x",
        });

        Assert.That(info, Is.Not.Null, "a compress.* key is present");
        Assert.That(info!.Version, Is.Null);
        Assert.That(info.SourceSha256, Is.Null);
        Assert.That(info.Passes, Is.Empty);
        Assert.That(info.NodesQuantized, Is.Null);
        Assert.That(CompressionInfo.FromMetadata(new Dictionary<string, string> { ["compress.scheme"] = "int8" }), Is.Null,
            "only the four documented keys count");
    }
}
