using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes.Qdq;

/// <summary>
/// A scale and zero point for one tensor (per-tensor) — the numbers a QuantizeLinear /
/// DequantizeLinear pair carries — computed as onnxruntime.quantization.quant_utils.compute_scale_zp does.
/// </summary>
/// <param name="Scale">Real value of one quantization step.</param>
/// <param name="ZeroPoint">Integer that represents real 0.</param>
/// <param name="Type">Integer element type.</param>
internal readonly record struct QuantParameters(float Scale, int ZeroPoint, QuantType Type)
{
    /// <summary>
    /// The integer range of <paramref name="type"/> the way quant_utils.get_qmin_qmax_for_qType picks it:
    /// reduce_range → int8 [-64,64] / uint8 [0,127]; symmetric int8 → [-127,127] (int16 → [-32767,32767]); else the full range.
    /// </summary>
    public static (int Min, int Max) IntegerRange(QuantType type, bool reduceRange, bool symmetric) => type switch
    {
        QuantType.QInt8 when reduceRange => (-64, 64),
        QuantType.QInt8 when symmetric => (-127, 127),
        QuantType.QInt8 => (-128, 127),
        QuantType.QUInt8 when reduceRange => (0, 127),
        QuantType.QUInt8 => (0, 255),
        QuantType.QInt16 when symmetric => (-32767, 32767),
        QuantType.QInt16 => (-32768, 32767),
        QuantType.QUInt16 => (0, 65535),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>
    /// compute_scale_zp: widens [rmin,rmax] to include 0 (and to <paramref name="minimumRealRange"/>),
    /// makes it symmetric on request, scale = range / (qmax − qmin), zero point = round(qmin − rmin/scale)
    /// (midpoint of the integer range when symmetric); a degenerate range gives scale 1, zero point 0.
    /// </summary>
    public static QuantParameters Compute(float rmin, float rmax, QuantType type, bool symmetric, bool reduceRange, float? minimumRealRange)
    {
        (int qmin, int qmax) = IntegerRange(type, reduceRange, symmetric);
        rmin = Math.Min(rmin, 0f);
        rmax = Math.Max(rmax, 0f);
        if (minimumRealRange is { } minimum)
        {
            rmax = Math.Max(rmax, rmin + minimum);
        }

        if (symmetric)
        {
            float absMax = Math.Max(Math.Abs(rmin), Math.Abs(rmax));
            rmin = -absMax;
            rmax = absMax;
        }

        double scale = ((double)rmax - rmin) / (qmax - qmin);
        if (!(scale >= float.Epsilon * 8388608d))
        {
            // Below float's smallest normal (np.finfo(float32).tiny): an all-zero tensor.
            return new QuantParameters(1f, 0, type);
        }

        int zeroPoint = symmetric
            ? (int)Math.Round((qmin + qmax) / 2.0, MidpointRounding.ToEven)
            : (int)Math.Round(qmin - (rmin / scale), MidpointRounding.ToEven);
        return new QuantParameters((float)scale, Math.Clamp(zeroPoint, qmin, qmax), type);
    }

    /// <summary>The scale as a float scalar initializer.</summary>
    public TensorProto ScaleTensor(string name) => TensorData.CreateFloat(name, [], [Scale]);

    /// <summary>The zero point as a scalar of the integer type (its type sets the Q output type).</summary>
    public TensorProto ZeroPointTensor(string name) => QuantTypeEncoding.Tensor(name, [], Type, [ZeroPoint]);
}
