using Compress.Core.Calibration;
using Compress.Core.Evaluation;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Evaluation;

/// <summary>The settings tune_quantization tries, and the pass copies it runs: only the three settings change.</summary>
public sealed class QuantizationChoicesTests
{
    private static QuantizePassSpec StaticPass() => new()
    {
        Mode = QuantizationMode.Static,
        PerChannel = false,
        ReduceRange = true,
        NodesToExclude = ["stem*"],
        ActivationSymmetric = true,
        Calibration = new CalibrationSpec { DataPaths = ["calib.npy"], Method = CalibrationMethod.MinMax, Samples = 32, Percentile = 99.9, SymmetricRange = false, MovingAverage = true },
    };

    [Test]
    public void AlternativesAreEveryOtherCombinationWithTheWrittenGranularityFirst()
    {
        var written = new QuantizationChoice(CalibrationMethod.MinMax, Symmetric: false, PerChannel: false);

        IReadOnlyList<IReadOnlyList<QuantizationChoice>> groups = QuantizationChoices.Alternatives(written);

        Assert.Multiple(() =>
        {
            Assert.That(groups, Has.Count.EqualTo(2));
            Assert.That(groups[0], Has.Count.EqualTo(5).And.All.Matches<QuantizationChoice>(c => !c.PerChannel));
            Assert.That(groups[1], Has.Count.EqualTo(6).And.All.Matches<QuantizationChoice>(c => c.PerChannel));
            Assert.That(groups.SelectMany(g => g), Does.Not.Contain(written).And.Unique);
            Assert.That(groups[0].Take(2).Select(c => c.Symmetric), Has.All.False, "asymmetric ranges first");
        });
    }

    [Test]
    public void ApplyChangesOnlyMethodSymmetryAndGranularityOfStaticPasses()
    {
        QuantizePassSpec written = StaticPass();
        var dynamic = new QuantizePassSpec { Mode = QuantizationMode.Dynamic, PerChannel = false };
        var choice = new QuantizationChoice(CalibrationMethod.Percentile, Symmetric: true, PerChannel: true);

        IReadOnlyList<PassSpec> applied = QuantizationChoices.Apply([written, dynamic], choice);

        var copy = (QuantizePassSpec)applied[0];
        Assert.Multiple(() =>
        {
            Assert.That(applied[1], Is.SameAs(dynamic), "a pass that does not calibrate is left as it is");
            Assert.That(copy, Is.Not.SameAs(written));
            Assert.That((copy.Calibration!.Method, copy.Calibration.SymmetricRange, copy.PerChannel), Is.EqualTo((CalibrationMethod.Percentile, true, true)));
            Assert.That((written.Calibration!.Method, written.Calibration.SymmetricRange, written.PerChannel), Is.EqualTo((CalibrationMethod.MinMax, false, false)), "the written pass is not changed");
            Assert.That(copy.Calibration.DataPaths, Is.EqualTo(written.Calibration.DataPaths));
            Assert.That((copy.Calibration.Samples, copy.Calibration.Percentile, copy.Calibration.MovingAverage), Is.EqualTo((32, 99.9, true)));
            Assert.That((copy.ReduceRange, copy.ActivationSymmetric, copy.NodesToExclude), Is.EqualTo((true, true, written.NodesToExclude)));
            Assert.That(QuantizationChoices.Written(applied), Is.EqualTo(choice));
            Assert.That(QuantizationChoices.Written([dynamic]), Is.Null);
        });
    }
}
