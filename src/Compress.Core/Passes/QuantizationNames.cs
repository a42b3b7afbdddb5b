using System.Globalization;
using Compress.Core.Onnx;

namespace Compress.Core.Passes;

/// <summary>
/// Short names for what a quantization pass adds (static, dynamic, weight-only's Conv weights), one numbered unit
/// per quantized tensor or node: a role letter and the unit's number. Static QDQ: <c>q7</c> the integer tensor, <c>s7</c> its scale, <c>z7</c> its zero point,
/// <c>f7</c> the float value a producer writes before QuantizeLinear, <c>d7</c> a new dequantized value, nodes
/// <c>Q7</c> and <c>DQ7</c>. Dynamic adds <c>i7</c> (int32 product), <c>m7</c> (combined scale), <c>y7</c> (scaled
/// product before the bias), <c>b7</c> (a reshaped or scaled bias) and nodes <c>Q7</c> (DynamicQuantizeLinear),
/// <c>C7</c> (Cast), <c>M7</c> / <c>Y7</c> (the Muls), <c>B7</c> (the bias Add); its integer node (MatMulInteger,
/// ConvInteger, DynamicQuantizeMatMul, DynamicQuantizeLSTM) keeps the name of the node it replaces.
/// </summary>
/// <remarks>
/// Each name is written once per reference, and ORT's long suffixes (<c>conv2d_450.tmp_0_zero_point</c>) were
/// 4 % of ocr-det's int8 file. The tensors users know keep their names: a DequantizeLinear writes the original
/// activation name back, a replaced node's output keeps its name, and every float node keeps its own.
/// </remarks>
internal sealed class QuantizationNames(ModelGraph graph)
{
    private int _next;

    /// <summary>The next unit; its names are unique in the whole model (a taken name gets a <c>_1</c> suffix).</summary>
    public Unit Next() => new(graph, (_next++).ToString(CultureInfo.InvariantCulture));

    /// <summary>The names of one unit; each call reserves a new name (a second DequantizeLinear of a weight gets <c>DQ7_1</c>).</summary>
    internal sealed class Unit(ModelGraph graph, string k)
    {
        /// <summary><paramref name="role"/> followed by the unit's number, e.g. <c>i7</c>.</summary>
        public string Name(string role) => graph.UniqueName(role + k);

        public string Quantized() => Name("q");

        public string Scale() => Name("s");

        public string ZeroPoint() => Name("z");

        public string Float() => Name("f");

        public string Dequantized() => Name("d");

        public string QuantizeNode() => Name("Q");

        public string DequantizeNode() => Name("DQ");
    }
}
