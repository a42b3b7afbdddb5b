using System.Text.Json;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Pipeline;
using Compress.Core.Tests.Passes;
using Compress.Runtime.Data;

namespace Compress.Core.Tests.Evaluation;

/// <summary>
/// on_failure: tune on the shared models beyond digits-mlp (see <see cref="AccuracyBudgetPipelineTests"/>): each spec's budget is missed by the passes as
/// written (asserted from the report's <c>after_untuned</c>, not assumed), tuning meets it, and the report and the
/// Markdown name the layers kept in float. Evaluation data are limited where the spec allows (ocr-det: one page).
/// </summary>
public sealed class SharedModelTuningTests
{
    private static string Shared(string file) => TestPaths.SharedData(file).Replace('\\', '/');

    private static string Model(string name) => TestPaths.SharedModel(name).Replace('\\', '/');

    /// <summary>fashion-cnn: static int8 with the default op types changes the class of about 1 % of 2,000 images.</summary>
    [Test]
    public void FashionCnnStaticInt8ReachesARelativeErrorBudgetByKeepingLayersInFloat()
    {
        using var workspace = new EvaluationWorkspace();
        PipelineResult result = workspace.Run($"""
            version: 1
            models:
              - name: fashion
                source: {Model("fashion-cnn")}
                passes:
                  - quantize:
                      mode: static
                      calibration: {"{"} data: {Shared("fashion_calib_x.npy")} {"}"}
                evaluate:
                  data: {Shared("fashion_test_x.npy")}
                  labels: {Shared("fashion_test_y.npy")}
                  max_relative_error: 0.004
                  on_failure: tune
            """);

        // Static int8 of fashion-cnn is close to fp32 (agreement 99.65 %, relative error 0.0041): the budget is set just
        // below that, so tuning has to keep a layer in float to meet it.
        JsonElement evaluation = AssertTunedAndNamed(workspace, result, "fashion", "static_quantization");
        Assert.Multiple(() =>
        {
            Assert.That(Metric(evaluation, "after_untuned", "relative_error"), Is.GreaterThan(0.004), "the default static int8 must miss the budget");
            Assert.That(Metric(evaluation, "after", "relative_error"), Is.LessThanOrEqualTo(0.004));
        });
    }

    /// <summary>ocr-cls (opset 9, weights in Constant nodes): static int8 with the default op types flips one of 100 lines.</summary>
    [Test]
    public void OcrClsStaticInt8ReachesFullAgreementByKeepingLayersInFloat()
    {
        using var workspace = new EvaluationWorkspace();
        PipelineResult result = workspace.Run($"""
            version: 1
            models:
              - name: cls
                source: {Model("ocr-cls")}
                passes:
                  - quantize:
                      mode: static
                      calibration: {"{"} data: {Shared("cls_calib_x.npy")} {"}"}
                evaluate:
                  data: {Shared("cls_test_x.npy")}
                  labels: {Shared("cls_test_y.npy")}
                  min_agreement: 1.0
                  on_failure: tune
            """);

        JsonElement evaluation = AssertTunedAndNamed(workspace, result, "cls", "static_quantization");
        Assert.Multiple(() =>
        {
            Assert.That(Metric(evaluation, "after_untuned", "agreement"), Is.LessThan(1.0), "the default static int8 must miss min_agreement 1.0");
            Assert.That(Metric(evaluation, "after", "agreement"), Is.EqualTo(1.0));
        });
    }

    /// <summary>
    /// Silero VAD v4, static int8 (its 16 kHz encoder inside the If, calibrated by inlining the branch): the issue's floor
    /// is a frame-accuracy drop of at most half a point. The passes as written lose 0.6 points (0.968 vs 0.974); tuning
    /// keeps a layer in float and meets it. This works because a layer kept float really stays float in ONNX Runtime
    /// (it reads the float tensor, so ORT's WeightBiasQuantization cannot quantize it again).
    /// </summary>
    [Test]
    public void SileroStaticInt8MeetsTheHalfPointFrameAccuracyFloorByTuning()
    {
        using var workspace = new EvaluationWorkspace();
        PipelineResult result = workspace.Run($"""
            version: 1
            models:
              - name: vad
                source: {Model("silero-vad-v4")}
                passes:
                  - quantize:
                      mode: static
                      per_channel: true
                      calibration: {"{"} data: {Shared("vad_calib.npz")} {"}"}
                evaluate:
                  data: {Shared("vad_test.npz")}
                  labels: {Shared("vad_test_y.npy")}
                  output: output
                  batch_size: 1000
                  max_accuracy_drop: 0.005
                  on_failure: tune
            """);

        JsonElement evaluation = AssertTunedAndNamed(workspace, result, "vad", "static_quantization");
        Assert.Multiple(() =>
        {
            Assert.That(Metric(evaluation, "before", "accuracy"), Is.EqualTo(0.974).Within(1e-9), "fp32 frame accuracy (shared README)");
            Assert.That(Metric(evaluation, "after_untuned", "accuracy"), Is.LessThan(0.969), "the passes as written miss the floor");
            Assert.That(Metric(evaluation, "after", "accuracy"), Is.GreaterThanOrEqualTo(0.969));
            Assert.That(Kept(evaluation), Has.Length.LessThanOrEqualTo(3), "a few layers at most");
        });
    }

    /// <summary>
    /// Silero VAD v4, static int8 tuned on the calibration steps for decision agreement, then checked on the 1,000 test
    /// steps it never saw against the issue's floors (≥ 99 % agreement with fp32, ≤ 0.5 point of frame accuracy lost).
    /// The search keeps about ten layers in float before the budget holds; the STFT Conv helps only together with later
    /// ones, so trimming quantizes most of them again and ends with a few (measured: Conv_73 and Mul_93).
    /// </summary>
    [Test]
    public void SileroStaticInt8TunedForAgreementIsTrimmedAndMeetsTheFloorsOnTestData()
    {
        using var workspace = new EvaluationWorkspace();
        PipelineResult result = workspace.Run($"""
            version: 1
            models:
              - name: vad
                source: {Model("silero-vad-v4")}
                passes:
                  - quantize:
                      mode: static
                      calibration: {"{"} data: {Shared("vad_calib.npz")} {"}"}
                evaluate:
                  data: {Shared("vad_calib.npz")}
                  output: output
                  min_agreement: 0.992
                  on_failure: tune
            """);

        JsonElement evaluation = AssertTunedAndNamed(workspace, result, "vad", "static_quantization");
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(workspace.Output, "vad.report.json")));
        JsonElement[] steps = [.. report.RootElement.GetProperty("tuning").EnumerateArray()];
        JsonElement[] trims = [.. steps.Where(s => s.TryGetProperty("requantized", out JsonElement r) && r.ValueKind == JsonValueKind.String)];
        int searched = steps.Where(s => !trims.Contains(s)).Last().GetProperty("excluded").GetArrayLength();

        ModelProto written = OnnxModelFile.Load(Path.Combine(workspace.Output, "vad.onnx"));
        NpzArchive test = NpzArchive.Load(SharedMaterial.DataPath("vad_test.npz"));
        long[] labels = NpyArray.Load(SharedMaterial.DataPath("vad_test_y.npy")).ToInt64Array();
        float[] floatP = SharedModelRunner.SileroProbabilities(SharedMaterial.LoadModel("silero-vad-v4"), test, batch: 1000);
        float[] quantP = SharedModelRunner.SileroProbabilities(written, test, batch: 1000);
        double agreement = SharedModelRunner.DecisionAgreement(floatP, quantP);
        double floatAccuracy = SharedModelRunner.FrameAccuracy(floatP, labels);
        double quantAccuracy = SharedModelRunner.FrameAccuracy(quantP, labels);
        using JsonDocument schema = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.RepositoryRoot, "docs", "report-schema.json")));
        List<string> schemaErrors = new JsonSchemaSubset(schema.RootElement).Validate(report.RootElement);
        string markdown = File.ReadAllText(Path.Combine(workspace.Output, "vad.report.md"));
        TestContext.Out.WriteLine($"search kept {searched}, trimmed to {string.Join(", ", Kept(evaluation))}; test agreement {agreement:P1}, frame accuracy {quantAccuracy:F3} (fp32 {floatAccuracy:F3})");
        Assert.Multiple(() =>
        {
            Assert.That(Metric(evaluation, "after_untuned", "agreement"), Is.LessThan(0.992), "the passes as written miss the budget");
            Assert.That(trims, Has.Length.EqualTo(searched), "every layer the search kept is tried once");
            Assert.That(trims.Count(s => s.GetProperty("kept").GetBoolean()), Is.GreaterThan(0), "some layer is quantized again");
            Assert.That(Kept(evaluation), Has.Length.EqualTo(searched - trims.Count(s => s.GetProperty("kept").GetBoolean())));
            Assert.That(Kept(evaluation), Has.Length.LessThanOrEqualTo(3));
            Assert.That(schemaErrors, Is.Empty, "trim steps are documented in report-schema.json");
            Assert.That(markdown, Does.Contain("quantized again (not needed)"));
            Assert.That(agreement, Is.GreaterThanOrEqualTo(0.99), "issue floor: agreement with fp32 on unseen steps");
            Assert.That(quantAccuracy, Is.GreaterThanOrEqualTo(floatAccuracy - 0.005), "issue floor: at most half a point lost");
        });
    }

    /// <summary>
    /// Silero VAD v4: dynamic int8 of Conv and LSTM, which sit inside If branches (weights from the outer scope and
    /// local to nested subgraphs). The output is one probability per step, so the budget is a comparison limit.
    /// </summary>
    [Test]
    public void SileroDynamicInt8MeetsARelativeErrorBudgetByKeepingSubgraphLayersInFloat()
    {
        using var workspace = new EvaluationWorkspace();
        PipelineResult result = workspace.Run($"""
            version: 1
            models:
              - name: vad
                source: {Model("silero-vad-v4")}
                passes:
                  - quantize:
                      mode: dynamic
                      op_types_to_quantize: [Conv, LSTM]
                evaluate:
                  data: {Shared("vad_test.npz")}
                  output: output
                  max_relative_error: 0.03
                  on_failure: tune
            """);

        JsonElement evaluation = AssertTunedAndNamed(workspace, result, "vad", "dynamic_quantization");
        string[] kept = Kept(evaluation);
        ModelProto written = OnnxModelFile.Load(Path.Combine(workspace.Output, "vad.onnx"));
        NodeProto[] mainGraph = [.. written.Graph.Node];
        NodeProto[] everyNode = [.. OnnxModelWalker.Graphs(written).SelectMany(g => g.Node)];
        Assert.Multiple(() =>
        {
            Assert.That(Metric(evaluation, "after_untuned", "relative_error"), Is.GreaterThan(0.03), "dynamic int8 of every Conv and LSTM must miss the budget");
            Assert.That(Metric(evaluation, "after", "relative_error"), Is.LessThanOrEqualTo(0.03));
            Assert.That(evaluation.GetProperty("layer_sensitivity").GetArrayLength(), Is.EqualTo(44), "36 Conv + 8 LSTM, all inside If branches");
            foreach (string node in kept)
            {
                Assert.That(mainGraph.Select(n => n.Name), Does.Not.Contain(node), "the candidates live in subgraphs");
                NodeProto written1 = everyNode.Single(n => n.Name == node);
                Assert.That(written1.OpType, Is.AnyOf("Conv", "LSTM"), $"{node} is still a float op");
            }
        });
    }

    /// <summary>
    /// ocr-det (640x640 pages, Constant-node weights, no labels): dynamic per-channel int8 of every Conv, scored
    /// against the original's probability map on one page. Keeping layers in float does not help monotonically here
    /// (some make the map worse), so tuning also drops layers it tried.
    /// </summary>
    [Test]
    public void OcrDetDynamicInt8MeetsARelativeErrorBudgetOnOnePage()
    {
        using var workspace = new EvaluationWorkspace();
        PipelineResult result = workspace.Run($"""
            version: 1
            models:
              - name: det
                source: {Model("ocr-det")}
                passes:
                  - quantize:
                      mode: dynamic
                      per_channel: true
                      op_types_to_quantize: [Conv]
                evaluate:
                  data: {Shared("det_test_x.npy")}
                  samples: 1
                  max_relative_error: 0.115
                  on_failure: tune
            """);

        JsonElement evaluation = AssertTunedAndNamed(workspace, result, "det", "dynamic_quantization");
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(workspace.Output, "det.report.json")));
        ModelProto written = OnnxModelFile.Load(Path.Combine(workspace.Output, "det.onnx"));
        Assert.Multiple(() =>
        {
            Assert.That(Metric(evaluation, "after_untuned", "relative_error"), Is.GreaterThan(0.115), "dynamic int8 of every Conv must miss the budget");
            Assert.That(Metric(evaluation, "after", "relative_error"), Is.LessThanOrEqualTo(0.115));
            Assert.That(evaluation.GetProperty("samples").GetInt32(), Is.EqualTo(1));
            Assert.That(report.RootElement.GetProperty("tuning").EnumerateArray().Select(s => s.GetProperty("kept").GetBoolean()), Does.Contain(false), "some tried layer made the map worse and was dropped");
            foreach (string node in Kept(evaluation))
            {
                Assert.That(written.Graph.Node.Single(n => n.Name == node).OpType, Is.EqualTo("Conv"), $"{node} is still a float Conv");
            }
        });
    }

    /// <summary>
    /// ocr-det from the spec as a user would first write it (static int8, defaults: per-tensor min/max ranges), tuned on its
    /// one calibration page. The defaults keep 0.63 of that page's text mask. With tune_quantization the tuner first finds
    /// per-channel weights with asymmetric percentile ranges (0.88), then keeps in float the layers that still hurt; the
    /// two test pages, never seen by the tuner, then meet the issue's floor (IoU ≥ 0.97 per page) on integer kernels.
    /// </summary>
    [Test]
    public void OcrDetDefaultStaticInt8TunedWithItsSettingsKeepsTheTextMasksOfUnseenPages()
    {
        using var workspace = new EvaluationWorkspace();
        PipelineResult result = workspace.Run($"""
            version: 1
            models:
              - name: det
                source: {Model("ocr-det")}
                passes:
                  - quantize:
                      mode: static
                      calibration: {"{"} data: {Shared("det_calib_x.npy")} {"}"}
                evaluate:
                  data: {Shared("det_calib_x.npy")}
                  batch_size: 1
                  threshold: 0.3
                  min_mask_iou: 0.98
                  on_failure: tune
                  tune_quantization: true
            """);

        JsonElement evaluation = AssertTunedAndNamed(workspace, result, "det", "static_quantization");
        ModelProto original = OnnxModelFile.Load(TestPaths.SharedModel("ocr-det"));
        ModelProto written = OnnxModelFile.Load(Path.Combine(workspace.Output, "det.onnx"));
        float[] pages = NpyArray.Load(TestPaths.SharedData("det_test_x.npy")).ToSingleArray();
        double[] iou = SharedModelRunner.Iou(SharedModelRunner.OcrDetTextMasks(original, pages), SharedModelRunner.OcrDetTextMasks(written, pages));
        HashSet<string> kept = [.. Kept(evaluation)];
        int keptConvs = original.Graph.Node.Count(n => kept.Contains(n.Name) && n.OpType == "Conv");
        Dictionary<string, int> ops = StaticFusion.OptimizedOpCounts(written);
        int integer = ops.GetValueOrDefault("QLinearConv"), floating = ops.GetValueOrDefault("Conv") + ops.GetValueOrDefault("FusedConv");
        TestContext.Out.WriteLine($"ocr-det tuned: test pages IoU {string.Join(" / ", iou.Select(v => v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}; {kept.Count} layers in float ({keptConvs} Conv); {integer} QLinearConv and {floating} float Conv");
        JsonElement settings = evaluation.GetProperty("tuned_quantization");
        Assert.Multiple(() =>
        {
            Assert.That(Metric(evaluation, "after_untuned", "mask_iou"), Is.LessThan(0.7), "the defaults must miss the budget by far, else this test proves nothing");
            Assert.That((settings.GetProperty("method").GetString(), settings.GetProperty("symmetric").GetBoolean(), settings.GetProperty("per_channel").GetBoolean()),
                Is.EqualTo(("percentile", false, true)));
            Assert.That(Metric(evaluation, "after", "mask_iou"), Is.GreaterThanOrEqualTo(0.98), "the budget, on the calibration page");
            Assert.That(iou, Has.All.GreaterThanOrEqualTo(0.97), "IoU of the text masks with fp32's on the unseen test pages");
            // Of its 62 Conv, every one not kept in float runs as QLinearConv. (Its 2 ConvTranspose stay DequantizeLinear →
            // float ConvTranspose in ORT 1.31's optimized graph, with these settings as with the defaults.)
            Assert.That(integer, Is.EqualTo(62 - keptConvs), "every Conv not kept in float runs on an integer kernel");
            Assert.That(floating, Is.EqualTo(keptConvs), "and only the kept ones run in float");
        });
    }

    private static JsonElement AssertTunedAndNamed(EvaluationWorkspace workspace, PipelineResult result, string name, string quantizePass)
    {
        Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(workspace.Output, name + ".report.json")));
        JsonElement root = report.RootElement.Clone();
        JsonElement evaluation = root.GetProperty("evaluation");
        string[] kept = Kept(evaluation);
        JsonElement[] steps = [.. root.GetProperty("tuning").EnumerateArray()];
        JsonElement pass = root.GetProperty("passes").EnumerateArray().Single(p => p.GetProperty("pass").GetString() == quantizePass);
        string[] excludedByPass = [.. pass.GetProperty("skipped_nodes").EnumerateArray()
            .Where(s => s.GetProperty("reason").GetString()!.StartsWith("excluded by nodes_to_exclude", StringComparison.Ordinal))
            .Select(s => s.GetProperty("node").GetString()!)];
        string markdown = File.ReadAllText(Path.Combine(workspace.Output, name + ".report.md"));
        TestContext.Out.WriteLine($"{name}: kept in float {string.Join(", ", kept)}; {evaluation.GetProperty("evaluations").GetInt32()} evaluations; after {evaluation.GetProperty("after")}");
        Assert.Multiple(() =>
        {
            Assert.That(evaluation.GetProperty("passed").GetBoolean(), Is.True);
            Assert.That(kept, Is.Not.Empty);
            // The result is the last step that met the budget (a trim step after it may have needed its node back).
            JsonElement final = steps.Last(s => s.GetProperty("passed").GetBoolean());
            Assert.That(final.GetProperty("kept").GetBoolean(), Is.True);
            Assert.That(final.GetProperty("excluded").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(kept));
            Assert.That(excludedByPass, Is.EquivalentTo(kept), "the written model's pass left exactly the kept layers alone");
            Assert.That(markdown, Does.Contain("Layers kept in float: " + string.Join(", ", kept.Select(k => $"`{k}`"))));
        });
        return evaluation;
    }

    private static string[] Kept(JsonElement evaluation) =>
        [.. evaluation.GetProperty("kept_at_higher_precision").EnumerateArray().Select(e => e.GetString()!)];

    private static double Metric(JsonElement evaluation, string model, string metric) => evaluation.GetProperty(model).GetProperty(metric).GetDouble();
}
