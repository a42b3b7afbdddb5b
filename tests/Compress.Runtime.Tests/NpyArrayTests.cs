using Compress.Runtime.Data;

namespace Compress.Runtime.Tests;

public class NpyArrayTests
{
    [Test]
    public void DigitsFilesHaveTheShapesAndTypesTheReadmeGives()
    {
        NpyArray x = NpyArray.Load(SharedMaterial.Data("digits_test_x.npy"));
        NpyArray y = NpyArray.Load(SharedMaterial.Data("digits_test_y.npy"));

        Assert.That(x.ElementType, Is.EqualTo(NpyElementType.Float32));
        Assert.That(x.Shape, Is.EqualTo(new long[] { 450, 64 }));
        Assert.That(x.SampleCount, Is.EqualTo(450));
        Assert.That(x.Bytes.Length, Is.EqualTo(450 * 64 * 4));
        Assert.That(y.ElementType, Is.EqualTo(NpyElementType.Int64));
        Assert.That(y.Shape, Is.EqualTo(new long[] { 450 }));

        // Pixels are 0..16 divided by 16; labels are digits.
        float[] pixels = x.ToSingleArray();
        Assert.That(pixels, Is.All.InRange(0f, 1f));
        Assert.That(pixels.Select(p => p * 16f), Is.All.EqualTo(0f).Or.Matches<float>(v => v == MathF.Round(v)));
        Assert.That(y.ToInt64Array(), Is.All.InRange(0L, 9L));
        Assert.That(y.ToInt64Array().Distinct().Count(), Is.EqualTo(10));
    }

    [Test]
    public void SampleBytesSliceAlongAxis0()
    {
        NpyArray x = NpyArray.Load(SharedMaterial.Data("digits_test_x.npy"));
        const int RowBytes = 64 * 4;

        ReadOnlySpan<byte> rows = x.SampleBytes(5, 2);

        Assert.That(rows.Length, Is.EqualTo(2 * RowBytes));
        Assert.That(rows.SequenceEqual(x.Bytes.Slice(5 * RowBytes, 2 * RowBytes)), Is.True);
        Assert.That(x.SampleBytes(449, 1).SequenceEqual(x.Bytes[^RowBytes..]), Is.True);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.SampleBytes(449, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.SampleBytes(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.SampleBytes(3, -1));
    }

    [Test]
    public void ZeroDimensionalArrayIsOneSampleForEveryRange()
    {
        byte[] file = NpyFiles.Create("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", BitConverter.GetBytes(2.5));

        NpyArray scalar = NpyArray.Read(new MemoryStream(file), "scalar.npy");

        Assert.That(scalar.Shape, Is.Empty);
        Assert.That(scalar.ElementCount, Is.EqualTo(1));
        Assert.That(scalar.SampleCount, Is.EqualTo(1));
        Assert.That(scalar.ToDoubleArray(), Is.EqualTo(new[] { 2.5 }));
        Assert.That(scalar.SampleBytes(7, 3).ToArray(), Is.EqualTo(BitConverter.GetBytes(2.5)));
    }

    [Test]
    public void TruncatedFileIsInvalidData()
    {
        byte[] whole = File.ReadAllBytes(SharedMaterial.Data("digits_test_y.npy"));

        var e = Assert.Throws<InvalidDataException>(() => NpyArray.Read(new MemoryStream(whole[..^8]), "short.npy"));
        Assert.That(e!.Message, Does.Contain("'short.npy'").And.Contain("ends early"));
        Assert.Throws<InvalidDataException>(() => NpyArray.Read(new MemoryStream(whole[..9]), "header.npy"));
    }

    [Test]
    public void FortranOrderIsRejected()
    {
        byte[] file = NpyFiles.Create("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new byte[16]);

        var e = Assert.Throws<InvalidDataException>(() => NpyArray.Read(new MemoryStream(file), "f.npy"));

        Assert.That(e!.Message, Does.Contain("Fortran order"));
    }

    [Test]
    public void BigEndianAndUnknownTypesAreRejected()
    {
        byte[] bigEndian = NpyFiles.Create("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
        byte[] complex = NpyFiles.Create("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new byte[8]);

        Assert.That(() => NpyArray.Read(new MemoryStream(bigEndian), "be.npy"), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("big-endian"));
        Assert.That(() => NpyArray.Read(new MemoryStream(complex), "c.npy"), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("'<c8'"));
    }

    [Test]
    public void NegativeOrOverflowingShapeIsInvalidData()
    {
        byte[] negative = NpyFiles.Create("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", new byte[4]);
        byte[] huge = NpyFiles.Create("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", new byte[4]);

        Assert.That(() => NpyArray.Read(new MemoryStream(negative), "neg.npy"), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("negative"));
        Assert.That(() => NpyArray.Read(new MemoryStream(huge), "huge.npy"), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("than one array can hold"));
    }

    [Test]
    public void NotNpyIsRejected()
    {
        var e = Assert.Throws<InvalidDataException>(() => NpyArray.Read(new MemoryStream("PK\u0003\u0004 not npy"u8.ToArray()), "zip.npy"));

        Assert.That(e!.Message, Does.Contain("magic"));
    }

    [Test]
    public void ViewingAsAnotherSizeIsRejected()
    {
        NpyArray y = NpyArray.Load(SharedMaterial.Data("digits_test_y.npy"));

        Assert.Throws<InvalidOperationException>(() => y.AsSpan<float>().ToArray());
        Assert.That(y.AsSpan<long>().Length, Is.EqualTo(450));
    }
}
