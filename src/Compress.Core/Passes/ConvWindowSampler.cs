using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// The rows a 1-D or 2-D Conv's least-squares refit is built from: for sampled output positions, the kH×kW input window of
/// each input channel (zeros where the window hangs over the padding). Positions are spread evenly over each sample's
/// output map, shifted from one sample to the next so that a small sample set still covers the map.
/// </summary>
internal sealed class ConvWindowSampler
{
    private readonly int _channels, _height, _width, _outWidth, _kh, _kw, _padTop, _padLeft, _taken, _spacing;
    private readonly long[] _strides, _dilations;

    public ConvWindowSampler(NodeProto node, long[] weightDims, long[] xShape, long[] yShape, int positionsPerSample)
    {
        // A 1-D Conv ([N, C, L], weight [M, C/group, k]) is sampled as a 2-D one of height 1.
        bool oneD = xShape.Length == 3;
        _channels = (int)xShape[1];
        _height = oneD ? 1 : (int)xShape[2];
        _width = (int)xShape[^1];
        int outHeight = oneD ? 1 : (int)yShape[2];
        _outWidth = (int)yShape[^1];
        _kh = oneD ? 1 : (int)weightDims[2];
        _kw = (int)weightDims[^1];
        if (oneD)
        {
            _strides = [1, Reconstruction.Ints(node, "strides", [1])[0]];
            _dilations = [1, Reconstruction.Ints(node, "dilations", [1])[0]];
            _padTop = 0;
            _padLeft = Reconstruction.PadBefore(node, 0, _width, _outWidth, _kw, _strides[1], _dilations[1]);
        }
        else
        {
            _strides = Reconstruction.Ints(node, "strides", [1, 1]);
            _dilations = Reconstruction.Ints(node, "dilations", [1, 1]);
            (_padTop, _padLeft) = Reconstruction.Pads(node, _height, _width, outHeight, _outWidth, _kh, _kw, _strides, _dilations);
        }

        Positions = outHeight * _outWidth;
        _taken = Math.Min(positionsPerSample, Positions);
        _spacing = Math.Max(1, Positions / _taken);
    }

    /// <summary>Output positions per sample (height × width of the output map).</summary>
    public int Positions { get; }

    /// <summary>Values in one channel's window.</summary>
    public int Window => _kh * _kw;

    /// <summary>The sampled (sample, output position) pairs of <paramref name="samples"/> samples, the first being sample <paramref name="firstSample"/> of the data.</summary>
    public IEnumerable<(int Sample, int Position)> Sampled(int samples, int firstSample)
    {
        for (int s = 0; s < samples; s++)
        {
            int offset = (firstSample + s) % _spacing;
            for (int i = 0; i < _taken; i++)
            {
                yield return (s, (int)((((long)i * Positions / _taken) + offset) % Positions));
            }
        }
    }

    /// <summary>Writes input channel <paramref name="channel"/>'s window at output <paramref name="position"/> of sample <paramref name="sample"/> into <paramref name="window"/>.</summary>
    public void FillWindow(float[] x, int sample, int channel, int position, Span<float> window)
    {
        int oh = position / _outWidth, ow = position % _outWidth;
        long plane = (((long)sample * _channels) + channel) * _height * _width;
        int p = 0;
        for (int ki = 0; ki < _kh; ki++)
        {
            int ih = (int)((oh * _strides[0]) - _padTop + (ki * _dilations[0]));
            for (int kj = 0; kj < _kw; kj++, p++)
            {
                int iw = (int)((ow * _strides[1]) - _padLeft + (kj * _dilations[1]));
                window[p] = ih >= 0 && ih < _height && iw >= 0 && iw < _width ? x[plane + ((long)ih * _width) + iw] : 0f;
            }
        }
    }
}
