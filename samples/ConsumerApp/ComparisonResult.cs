using System.Globalization;

namespace ConsumerApp;

/// <summary>Measurements of one original/compressed pair.</summary>
internal sealed record ComparisonResult(
    ModelPair Pair,
    long OriginalBytes,
    long CompressedBytes,
    double OriginalAccuracy,
    double CompressedAccuracy,
    double Agreement,
    double OriginalMilliseconds,
    double CompressedMilliseconds)
{
    public void Print(TextWriter output)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Pair.OriginalName,-14} {"fp32",-9} {OriginalBytes,10:N0} {OriginalAccuracy,9:P2} {"",10} {OriginalMilliseconds,8:F2} ms"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Pair.CompressedName,-14} {"int8",-9} {CompressedBytes,10:N0} {CompressedAccuracy,9:P2} {Agreement,10:P2} {CompressedMilliseconds,8:F2} ms"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"",-14} {"ratio",-9} {(double)CompressedBytes / OriginalBytes,10:P1} {"",9} {"",10} {CompressedMilliseconds / OriginalMilliseconds,10:F2}x"));
    }
}
