using Compress.Core.Diagnostics;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Evaluation;

/// <summary>Reading the evaluate block: values and one coded error per mistake.</summary>
public sealed class EvaluateSpecTests
{
    [Test]
    public void IssueExampleIsReadWithItsBudgetAndPaths()
    {
        using var workspace = new EvaluationWorkspace();
        SpecLoadResult loaded = workspace.Load(EvaluationWorkspace.DigitsSpec("{ mode: dynamic }", "max_accuracy_drop: 0.01\non_failure: tune\noutput: logits"));

        EvaluateSpec evaluate = loaded.Spec!.Models[0].Evaluate!;
        Assert.Multiple(() =>
        {
            Assert.That(evaluate.Budget.MaxAccuracyDrop, Is.EqualTo(0.01));
            Assert.That(evaluate.Budget.MinAgreement, Is.Null);
            Assert.That(evaluate.OnFailure, Is.EqualTo(EvaluateFailureAction.Tune));
            Assert.That(evaluate.Output, Is.EqualTo("logits"));
            Assert.That(evaluate.DataPaths, Is.EqualTo(new[] { TestPaths.SharedData("digits_test_x.npy") }));
            Assert.That(evaluate.LabelsPath, Is.EqualTo(TestPaths.SharedData("digits_test_y.npy")));
        });
    }

    [Test]
    public void MaskIouBudgetIsReadWithItsThreshold()
    {
        using var workspace = new EvaluationWorkspace();
        SpecLoadResult loaded = workspace.Load(EvaluationWorkspace.DigitsSpec("{ mode: dynamic }", "min_mask_iou: 0.97\nthreshold: 0.3"));

        EvaluateSpec evaluate = loaded.Spec!.Models[0].Evaluate!;
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Diagnostics, Is.Empty);
            Assert.That(evaluate.Budget.MinMaskIou, Is.EqualTo(0.97));
            Assert.That(evaluate.Threshold, Is.EqualTo(0.3));
            Assert.That(global::Compress.Core.Evaluation.EvaluationData.From(evaluate).MaskIou, Is.True, "the evaluation measures mask IoU for this budget");
        });
    }

    [TestCase("on_failure: explode\nmax_accuracy_drop: 0.01", DiagnosticCodes.BadEnumValue)]
    [TestCase("on_failure: error", DiagnosticCodes.MissingKey)]
    [TestCase("max_accuracy_drop: 1.5", DiagnosticCodes.OutOfRange)]
    [TestCase("max_acuracy_drop: 0.01", DiagnosticCodes.UnknownKey)]
    [TestCase("min_mask_iou: 1.5", DiagnosticCodes.OutOfRange)]
    [TestCase("max_accuracy_drop: 0.01\ntune_quantization: maybe", DiagnosticCodes.WrongType)]
    [TestCase("max_accuracy_drop: 0.01\non_failure: tune\ntune_quantization: true", DiagnosticCodes.KeyNotApplicable)]
    public void MistakesGiveOneCodedError(string evaluateLines, string code)
    {
        using var workspace = new EvaluationWorkspace();

        SpecLoadResult loaded = workspace.Load(EvaluationWorkspace.DigitsSpec("{ mode: dynamic }", evaluateLines));

        Assert.That(loaded.Diagnostics.Select(d => d.Code), Is.EqualTo(new[] { code }), string.Join("\n", loaded.Diagnostics));
    }

    [Test]
    public void TuneQuantizationWithoutAStaticPassNamesTheKey()
    {
        using var workspace = new EvaluationWorkspace();

        SpecLoadResult loaded = workspace.Load(EvaluationWorkspace.DigitsSpec("{ mode: dynamic }", "max_accuracy_drop: 0.01\non_failure: tune\ntune_quantization: true"));

        Diagnostic error = loaded.Diagnostics.Single();
        Assert.That((error.Code, error.Line, error.Column), Is.EqualTo((DiagnosticCodes.KeyNotApplicable, 12, 7)), error.ToString());
        Assert.That(error.Message, Does.Contain("static quantize"));
    }
}
