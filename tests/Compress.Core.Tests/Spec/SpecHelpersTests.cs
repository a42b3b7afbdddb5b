using Compress.Core.Spec;

namespace Compress.Core.Tests.Spec;

/// <summary>The small rules behind the loader: node-name globs, spelling suggestions, output paths.</summary>
public sealed class SpecHelpersTests
{
    [TestCase("*", "anything/at/all", true)]
    [TestCase("/classifier/*", "/classifier/Gemm", true)]
    [TestCase("/classifier/*", "/features/Conv", false)]
    [TestCase("fc?", "fc1", true)]
    [TestCase("fc?", "fc10", false)]
    [TestCase("*attn*", "layer.3/attn/MatMul", true)]
    [TestCase("a*b*c", "aXbYbZc", true)]
    [TestCase("a*b*c", "aXbYbZ", false)]
    [TestCase("MatMul", "matmul", false)]
    [TestCase("", "", true)]
    [TestCase("", "x", false)]
    public void NodeNameGlobMatchesWholeNames(string glob, string name, bool expected) =>
        Assert.That(NodeNameGlob.IsMatch(glob, name), Is.EqualTo(expected));

    [Test]
    public void SelectsNodeAppliesIncludeListThenExcludeGlobs()
    {
        var pass = new QuantizePassSpec { NodesToQuantize = ["fc1", "fc2"], NodesToExclude = ["*2"] };

        Assert.Multiple(() =>
        {
            Assert.That(pass.SelectsNode("fc1"), Is.True);
            Assert.That(pass.SelectsNode("fc2"), Is.False);
            Assert.That(pass.SelectsNode("fc3"), Is.False);
            Assert.That(new QuantizePassSpec().SelectsNode("anything"), Is.True);
        });
    }

    [TestCase("per_chanel", "per_channel")]
    [TestCase("perChannel", "per_channel")]
    [TestCase("PER-CHANNEL", "per_channel")]
    [TestCase("reduce_rnage", "reduce_range")]
    [TestCase("op_type_to_quantize", "op_types_to_quantize")]
    [TestCase("fast", null)]
    [TestCase("mod", "mode")]
    [TestCase("x", null)]
    public void SuggestionFindsPlausibleTyposOnly(string typed, string? expected) =>
        Assert.That(SpellingSuggestion.Closest(typed, SpecKeys.QuantizeOptions), Is.EqualTo(expected));

    [TestCase("kitten", "sitting", 3)]
    [TestCase("", "abc", 3)]
    [TestCase("same", "same", 0)]
    public void LevenshteinDistance(string a, string b, int expected) =>
        Assert.That(SpellingSuggestion.Distance(a, b), Is.EqualTo(expected));

    [TestCase("m.onnx", "m.onnx")]
    [TestCase("./a//b/../m.onnx", "a/m.onnx")]
    [TestCase("a\\b\\m.onnx", "a/b/m.onnx")]
    public void OutputPathsAreNormalized(string written, string expected)
    {
        Assert.That(OutputPathRules.Normalize(written, out string normalized, out _), Is.EqualTo(OutputPathRules.Verdict.Valid));
        Assert.That(normalized, Is.EqualTo(expected));
    }

    [TestCase("../m.onnx", "Escapes")]
    [TestCase("a/../../m.onnx", "Escapes")]
    [TestCase("/m.onnx", "Escapes")]
    [TestCase("\\\\server\\share\\m.onnx", "Escapes")]
    [TestCase("d:m.onnx", "Escapes")]
    [TestCase("a/..", "Invalid")]
    [TestCase("m?.onnx", "Invalid")]
    [TestCase("dir./m.onnx", "Invalid")]
    public void BadOutputPathsAreRejected(string written, string expectedVerdict) =>
        Assert.That(OutputPathRules.Normalize(written, out _, out string reason).ToString(), Is.EqualTo(expectedVerdict), reason);
}
