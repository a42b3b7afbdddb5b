using System.Text.Json;
using Compress.Core.Reports;

namespace Compress.Core.Tests.Evaluation;

/// <summary>The Markdown report's SQNR tables point at nodes a user can exclude, the noisiest first.</summary>
public class ReportMarkdownSqnrTests
{
    [Test]
    public void WeightTableListsTheTenNoisiestWeightsWithTheNodesThatReadThem()
    {
        // Twelve weights in model order with SQNR 40, 39, … 29 dB: the table must start at w11 (29 dB) and stop at w2.
        string weights = string.Join(",", Enumerable.Range(0, 12).Select(i => $$"""{"tensor":"w{{i}}","elements":{{100 + i}},"sqnr_db":{{40 - i}},"nodes":["conv_{{i}}","gemm_{{i}}"]}"""));
        using JsonDocument report = JsonDocument.Parse($$"""
            {"name":"m","source":"m.onnx","output":"out/m.onnx","source_bytes":100,"output_bytes":25,"parameters":1,"nodes_quantized":12,
             "duration_ms":1,"tool_version":"t","passes":[],"weight_sqnr":[{{weights}}],
             "activation_sqnr":[{"tensor":"a","producer":"Conv","sqnr_db":3.5,"node":"conv_3"},{"tensor":"b","producer":"Relu","sqnr_db":9,"node":""}]}
            """);

        string[] lines = ReportMarkdown.Render(report.RootElement).Split('\n');

        int header = Array.FindIndex(lines, l => l.StartsWith("## Quantized weights", StringComparison.Ordinal));
        string[] rows = [.. lines.Skip(header + 4).TakeWhile(l => l.StartsWith('|'))];
        Assert.That(rows, Has.Length.EqualTo(10));
        Assert.That(rows[0], Is.EqualTo("| `w11` | `conv_11`, `gemm_11` | 111 | 29 |"));
        Assert.That(rows[^1], Does.StartWith("| `w2` |"));
        Assert.That(lines, Has.Some.EqualTo("2 more in `weight_sqnr` of the JSON report."));
        Assert.That(lines, Has.Some.EqualTo("| `a` | `conv_3` (Conv) | 3.5 |"), "the activation's producer by name, then op type");
        Assert.That(lines, Has.Some.EqualTo("| `b` | (Relu) | 9 |"), "an unnamed producer shows its op type only");
    }
}
