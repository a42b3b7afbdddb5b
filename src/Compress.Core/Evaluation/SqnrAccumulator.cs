namespace Compress.Core.Evaluation;

/// <summary>
/// Signal and noise energy summed element by element, so a weight's SQNR needs no dequantized copy of it
/// (a 1 GB weight would otherwise need another 1 GB).
/// </summary>
internal struct SqnrAccumulator
{
    private double _power;
    private double _noise;

    public void Add(float signal, float approximation)
    {
        double d = (double)signal - approximation;
        _power += (double)signal * signal;
        _noise += d * d;
    }

    /// <summary>10·log10(signal energy / noise energy); 999 dB stands for an exact copy (JSON has no infinity).</summary>
    public readonly double Decibels => _noise == 0 ? 999 : _power == 0 ? -999 : Math.Round(10 * Math.Log10(_power / _noise), 3);
}
