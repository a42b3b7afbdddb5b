using Compress.Runtime.Data;

namespace Compress.Runtime.Tests;

public class NpzArchiveTests
{
    [Test]
    public void VadTestArchiveHasTheInputsTheReadmeGives()
    {
        NpzArchive archive = NpzArchive.Load(SharedMaterial.Data("vad_test.npz"));

        Assert.That(archive.Keys, Is.EquivalentTo(new[] { "input", "h", "c", "sr" }));
        Assert.That(archive["input"].Shape, Is.EqualTo(new long[] { 1000, 1536 }));
        Assert.That(archive["h"].Shape, Is.EqualTo(new long[] { 1000, 2, 64 }));
        Assert.That(archive["c"].Shape, Is.EqualTo(new long[] { 1000, 2, 64 }));
        Assert.That(archive.Values.Where(a => a.Shape.Count > 0).Select(a => a.ElementType), Is.All.EqualTo(NpyElementType.Float32));

        NpyArray sr = archive["sr"];
        Assert.That(sr.ElementType, Is.EqualTo(NpyElementType.Int64));
        Assert.That(sr.Shape, Is.Empty);
        Assert.That(sr.ToInt64Array(), Is.EqualTo(new[] { 16000L }));
    }

    [Test]
    public void UnknownKeyListsTheArrays()
    {
        NpzArchive archive = NpzArchive.Load(SharedMaterial.Data("vad_test.npz"));

        var e = Assert.Throws<KeyNotFoundException>(() => _ = archive["state"]);

        Assert.That(e!.Message, Does.Contain("'state'").And.Contain("input"));
        Assert.That(archive.TryGetValue("state", out _), Is.False);
    }

    [Test]
    public void NonZipIsInvalidData()
    {
        string path = Path.Combine(Path.GetTempPath(), $"compress-runtime-{Guid.NewGuid():N}.npz");
        File.WriteAllBytes(path, File.ReadAllBytes(SharedMaterial.Data("digits_test_y.npy")));
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => NpzArchive.Load(path));

            Assert.That(e!.Message, Does.Contain("not a valid .npz file"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
