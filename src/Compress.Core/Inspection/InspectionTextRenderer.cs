using System.Globalization;
using System.Text;

namespace Compress.Core.Inspection;

/// <summary>Renders a <see cref="ModelInspection"/> as aligned plain-text tables.</summary>
internal static class InspectionTextRenderer
{
    public static string Render(ModelInspection m)
    {
        var sb = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        if (m.ExternalDataBytes > 0)
        {
            sb.AppendLine(c, $"file size      {m.FileBytes:N0} bytes + {m.ExternalDataBytes:N0} bytes of external data");
        }
        else
        {
            sb.AppendLine(c, $"file size      {m.FileBytes:N0} bytes");
        }

        sb.AppendLine(c, $"ir version     {m.IrVersion}");
        sb.AppendLine(c, $"producer       {(m.Producer.Length > 0 ? m.Producer : "-")}");
        sb.AppendLine(c, $"opsets         {string.Join(", ", m.OpsetImports.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version}"))}");
        sb.AppendLine(c, $"graphs         {m.GraphCount} ({m.NodeCount:N0} nodes)");
        sb.AppendLine(c, $"parameters     {m.ParameterCount:N0}");
        sb.AppendLine(c, $"sparsity       {m.Sparsity.Sparsity:P2} of {m.Sparsity.FloatElements:N0} float constant elements are zero");
        sb.AppendLine();
        Table(sb, "Inputs", ["name", "type", "shape"], m.Inputs.Select(Signature));
        Table(sb, "Outputs", ["name", "type", "shape"], m.Outputs.Select(Signature));
        Table(sb, "Operators", ["op", "count"], m.OpHistogram.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new[] { p.Key, p.Value.ToString(c) }));
        Table(sb, "Constants", ["type", "tensors", "elements", "bytes"], m.Constants
            .Select(t => new[] { t.ElementType, t.Count.ToString(c), t.Elements.ToString("N0", c), t.Bytes.ToString("N0", c) }));
        Table(sb, "Largest float constants", ["name", "graph", "elements", "zeros", "sparsity"], m.Sparsity.LargestTensors
            .Select(t => new[] { t.Name, t.Graph, t.Elements.ToString("N0", c), t.Zeros.ToString("N0", c), t.Sparsity.ToString("P2", c) }));
        return sb.ToString();
    }

    private static string[] Signature(TensorSignature s) =>
        [s.Name, s.ElementType, s.Shape is null ? "?" : "[" + string.Join(", ", s.Shape) + "]"];

    private static void Table(StringBuilder sb, string title, string[] header, IEnumerable<string[]> rows)
    {
        List<string[]> all = [header, .. rows];
        if (all.Count == 1)
        {
            return;
        }

        int[] widths = Enumerable.Range(0, header.Length).Select(i => all.Max(r => r[i].Length)).ToArray();
        sb.AppendLine(title);
        for (int r = 0; r < all.Count; r++)
        {
            string line = string.Join("  ", all[r].Select((cell, i) => IsNumeric(cell) && r > 0 ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i])));
            sb.Append("  ").AppendLine(line.TrimEnd());
            if (r == 0)
            {
                sb.Append("  ").AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
            }
        }

        sb.AppendLine();
    }

    private static bool IsNumeric(string cell) => cell.Length > 0 && (char.IsDigit(cell[0]) || cell[0] == '-') && cell.All(ch => char.IsDigit(ch) || ch is ',' or '.' or '%' or ' ' or '-');
}
