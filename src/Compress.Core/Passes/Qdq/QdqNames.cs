using System.Globalization;
using Compress.Core.Onnx;

namespace Compress.Core.Passes.Qdq;

/// <summary>
/// Short names for what static quantization adds, one numbered unit per quantized tensor:
/// <c>q7</c> the integer tensor, <c>s7</c> its scale, <c>z7</c> its zero point, <c>f7</c> the float value a producer
/// writes before QuantizeLinear, <c>d7</c> a new dequantized value, nodes <c>Q7</c> and <c>DQ7</c>.
/// </summary>
/// <remarks>
/// Each name is written once per reference, and ORT's long suffixes (<c>conv2d_450.tmp_0_zero_point</c>) were
/// 4 % of ocr-det's int8 file. The tensors users know keep their names: a DequantizeLinear writes the original
/// activation name back, and every float node keeps its own.
/// </remarks>
internal sealed class QdqNames(ModelGraph graph)
{
    private int _next;

    /// <summary>The next unit; its names are unique in the whole model (a taken name gets a <c>_1</c> suffix).</summary>
    public Unit Next()
    {
        string k = (_next++).ToString(CultureInfo.InvariantCulture);
        return new Unit(graph, k);
    }

    /// <summary>The names of one quantized tensor; each call reserves a new name (a second DequantizeLinear of a weight gets <c>DQ7_1</c>).</summary>
    internal sealed class Unit(ModelGraph graph, string k)
    {
        public string Quantized() => graph.UniqueName("q" + k);

        public string Scale() => graph.UniqueName("s" + k);

        public string ZeroPoint() => graph.UniqueName("z" + k);

        public string Float() => graph.UniqueName("f" + k);

        public string Dequantized() => graph.UniqueName("d" + k);

        public string QuantizeNode() => graph.UniqueName("Q" + k);

        public string DequantizeNode() => graph.UniqueName("DQ" + k);
    }
}
