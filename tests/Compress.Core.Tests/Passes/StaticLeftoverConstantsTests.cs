using Compress.Core.Calibration;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Pipeline;
using Compress.Core.Tests.Evaluation;

namespace Compress.Core.Tests.Passes;

/// <summary>
/// Static quantization folds Clips into quantization ranges, Muls by constants into scales and hard-swish
/// pieces into each other. The constants those nodes read must leave with them: ONNX Runtime prints a warning
/// per unread initializer when it opens the model (253 for ocr-det before this was fixed, 88 for ocr-cls).
/// </summary>
public class StaticLeftoverConstantsTests
{
    private static readonly string[] UserSpares = ["user_spare", "user_spare_constant"];

    [TestCase("ocr-cls", "cls_calib_x.npy", 88)]
    [TestCase("ocr-det", "det_calib_x.npy", 253)]
    public void QuantizedSharedModelReadsEveryConstantItHolds(string name, string calibFile, int orphanedBeforeTheFix)
    {
        string yaml = $"""
            version: 1
            models:
              - name: q
                source: {EvaluationWorkspace.SharedPath(TestPaths.SharedModel(name))}
                passes:
                  - quantize: {'{'} mode: static, calibration: {'{'} data: {EvaluationWorkspace.SharedPath(TestPaths.SharedData(calibFile))}, samples: 16 {'}'} {'}'}
            """;
        using var workspace = new EvaluationWorkspace();
        PipelineResult result = workspace.Run(yaml);
        Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
        ModelProto quantized = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(workspace.Output, "q.onnx")));

        List<string> unread = UnreadConstants(quantized.Graph, quantized.Graph.Output.Select(o => o.Name)).ToList();
        Assert.That(unread, Is.Empty);

        using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(workspace.Output, "q.report.json")));
        System.Text.Json.JsonElement quantize = report.RootElement.GetProperty("passes").EnumerateArray().Single(p => p.GetProperty("pass").GetString() == StaticQuantization.PassName);
        Assert.That(quantize.GetProperty("constants_removed").GetInt32(), Is.GreaterThanOrEqualTo(orphanedBeforeTheFix), "the orphans are counted as removed");
        Assert.That(quantize.GetProperty("nodes_quantized").GetInt32(), Is.GreaterThan(100));
    }

    [Test]
    public void ConstantsNobodyReadBeforeThePassStay()
    {
        ModelProto model = TinyModels.MatMul();
        // Unread by the user's choice: the pass did not orphan them, so it leaves them (and a Clip it folds does lose its bounds).
        model.Graph.Initializer.Add(new TensorProto { Name = "user_spare", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 2 }, FloatData = { 1f, 2f } });
        var spareNode = TinyModels.Node("Constant", "user_spare_node", [], ["user_spare_constant"]);
        spareNode.Attribute.Add(new AttributeProto { Name = "value_float", Type = AttributeProto.Types.AttributeType.Float, F = 3f });
        model.Graph.Node.Insert(0, spareNode);
        string input = model.Graph.Input[0].Name, output = model.Graph.Output[0].Name;
        AppendClip(model, output);
        Dictionary<string, TensorRange> ranges = StaticMinMaxCalibration.Calibrate(
            model, StaticMinMaxCalibration.Batches(input, TinyModels.RandomValues(8 * TinyModels.K, seed: 3), [TinyModels.K], 8));

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions());

        Assert.That(report.NodesQuantized, Is.GreaterThan(0));
        Assert.That(model.Graph.Node.Any(n => n.OpType == "Clip"), Is.False, "the Clip after the MatMul folds into its output's quantization range");
        Assert.That(UnreadConstants(model.Graph, model.Graph.Output.Select(o => o.Name)), Is.EquivalentTo(UserSpares));
    }

    /// <summary>Puts a Clip(0, 6) with initializer bounds after the graph's output and makes its result the output.</summary>
    private static void AppendClip(ModelProto model, string output)
    {
        string clipped = output + "_clipped";
        model.Graph.Initializer.Add(new TensorProto { Name = "clip_min", DataType = (int)TensorProto.Types.DataType.Float, FloatData = { 0f } });
        model.Graph.Initializer.Add(new TensorProto { Name = "clip_max", DataType = (int)TensorProto.Types.DataType.Float, FloatData = { 6f } });
        model.Graph.Node.Add(TinyModels.Node("Clip", "clip", [output, "clip_min", "clip_max"], [clipped]));
        model.Graph.Output[0].Name = clipped;
    }

    /// <summary>
    /// Initializers and Constant-node outputs that no node of the graph or of any graph nested in it reads, and that
    /// are not outputs (counted by name over the whole tree: coarser than scoping, so it can only under-report).
    /// </summary>
    private static IEnumerable<string> UnreadConstants(GraphProto graph, IEnumerable<string> outputs)
    {
        var read = new HashSet<string>(outputs, StringComparer.Ordinal);
        void Collect(GraphProto g)
        {
            foreach (NodeProto node in g.Node)
            {
                read.UnionWith(node.Input);
                foreach (AttributeProto attribute in node.Attribute)
                {
                    if (attribute.G is not null)
                    {
                        read.UnionWith(attribute.G.Output.Select(o => o.Name));
                        Collect(attribute.G);
                    }
                }
            }
        }

        Collect(graph);
        var inputs = new HashSet<string>(graph.Input.Select(i => i.Name), StringComparer.Ordinal);
        return graph.Initializer.Select(t => t.Name).Where(n => !inputs.Contains(n))
            .Concat(graph.Node.Where(n => n.OpType == "Constant").Select(n => n.Output[0]))
            .Where(n => !read.Contains(n));
    }
}
