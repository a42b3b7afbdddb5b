namespace Compress.Runtime.Tests;

public class DigitsModelTests
{
    private CompressedModel _model = null!;

    [OneTimeSetUp]
    public void LoadModel() => _model = CompressedModel.Load(Digits.ModelPath);

    [OneTimeTearDown]
    public void DisposeModel() => _model.Dispose();

    [Test]
    public void DescribesInputsAndOutputsWithSymbolicBatch()
    {
        Assert.That(_model.Name, Is.EqualTo("digits-mlp"));
        Assert.That(_model.Inputs, Has.Count.EqualTo(1));
        ModelTensorInfo input = _model.Inputs[0];
        Assert.That(input.Name, Is.EqualTo("input"));
        Assert.That(input.ElementType, Is.EqualTo(ModelElementType.Float32));
        Assert.That(input.Shape, Is.EqualTo(new long[] { -1, 64 }));
        Assert.That(input.SymbolicDimensions, Is.EqualTo(new[] { "batch", "" }));
        Assert.That(input.ToString(), Is.EqualTo("input: Float32[batch,64]"));
        Assert.That(_model.Outputs.Select(o => o.ToString()), Is.EqualTo(new[] { "logits: Float32[batch,10]" }));
        Assert.That(_model.Metadata, Is.Empty, "digits-mlp.onnx has no metadata_props");
    }

    [Test]
    public void WholeTestSetInOneBatchReachesTheBaselineAccuracy()
    {
        ModelOutput output = _model.Run(Digits.X.AsSpan<float>(), [Digits.Rows, Digits.Features]);

        Assert.That(output.Name, Is.EqualTo("logits"));
        Assert.That(output.Shape, Is.EqualTo(new long[] { 450, 10 }));
        ReadOnlySpan<float> logits = output.AsSpan<float>();
        long[] labels = Digits.Labels;
        int correct = 0;
        for (int i = 0; i < Digits.Rows; i++)
        {
            correct += Digits.ArgMax(logits.Slice(i * Digits.Classes, Digits.Classes)) == labels[i] ? 1 : 0;
        }

        // README fp32 baseline: 0.9689 = 436/450.
        Assert.That(correct, Is.EqualTo(436));
    }

    [Test]
    public void RowByRowEqualsOneBatchWithin1e5()
    {
        float[] batch = _model.Run(Digits.X.AsSpan<float>(), [Digits.Rows, Digits.Features]).ToArray<float>();
        float[] rows = Digits.RunRowByRow(_model);

        Assert.That(rows, Is.EqualTo(batch).Within(1e-5f));
    }

    [Test]
    public void TensorOverloadEqualsSpanOverload()
    {
        float[] expected = _model.Run(Digits.X.AsSpan<float>().Slice(0, 8 * Digits.Features), [8, Digits.Features]).ToArray<float>();
        System.Numerics.Tensors.Tensor<float> input = System.Numerics.Tensors.Tensor.Create(
            Digits.X.AsSpan<float>().Slice(0, 8 * Digits.Features).ToArray(), [8, Digits.Features]);

        System.Numerics.Tensors.Tensor<float> output = _model.Run(input);

        Assert.That(output.Lengths.ToArray(), Is.EqualTo(new nint[] { 8, 10 }));
        var flat = new float[output.FlattenedLength];
        output.FlattenTo(flat);
        Assert.That(flat, Is.EqualTo(expected));
    }

    [Test]
    public void StridedTensorIsReadInItsOwnElementOrder()
    {
        // Rows 0 and 1 stored column-major: a [2,64] view with strides [1,2] over a transposed copy.
        ReadOnlySpan<float> rows = Digits.X.AsSpan<float>().Slice(0, 2 * Digits.Features);
        var transposed = new float[rows.Length];
        for (int r = 0; r < 2; r++)
        {
            for (int f = 0; f < Digits.Features; f++)
            {
                transposed[(f * 2) + r] = rows[(r * Digits.Features) + f];
            }
        }

        System.Numerics.Tensors.Tensor<float> view = System.Numerics.Tensors.Tensor.Create(transposed, [2, Digits.Features], [1, 2]);
        float[] expected = _model.Run(rows, [2, Digits.Features]).ToArray<float>();

        Assert.That(view.IsDense, Is.False);
        var flat = new float[2 * Digits.Classes];
        _model.Run(view).FlattenTo(flat);
        Assert.That(flat, Is.EqualTo(expected));
        Assert.That(_model.Run([ModelInput.Create("input", view)])[0].ToArray<float>(), Is.EqualTo(expected));
    }

    [Test]
    public void GeneralApiEqualsSpanOverload()
    {
        ReadOnlyMemory<float> rows = Digits.X.AsSpan<float>().Slice(0, 3 * Digits.Features).ToArray();
        float[] expected = _model.Run(rows.Span, [3, Digits.Features]).ToArray<float>();

        IReadOnlyList<ModelOutput> outputs = _model.Run([ModelInput.Create("input", rows, 3, Digits.Features)]);

        Assert.That(outputs, Has.Count.EqualTo(1));
        Assert.That(outputs[0].Shape, Is.EqualTo(new long[] { 3, 10 }));
        Assert.That(outputs[0].ToArray<float>(), Is.EqualTo(expected));
    }

    [Test]
    public void WrongInputNameListsTheModelInputs()
    {
        var input = ModelInput.Create("pixels", new float[Digits.Features], 1, Digits.Features);

        var e = Assert.Throws<CompressedModelException>(() => _model.Run([input]));

        Assert.That(e!.ModelName, Is.EqualTo("digits-mlp"));
        Assert.That(e.Message, Does.Contain("no input 'pixels'").And.Contain("input: Float32[batch,64]"));
    }

    [Test]
    public void WrongFeatureCountNamesTheExpectedShape()
    {
        var e = Assert.Throws<CompressedModelException>(() => _model.Run(new float[63], [1, 63]));

        Assert.That(e!.Message, Does.Contain("[1,63]").And.Contain("input: Float32[batch,64]"));
    }

    [Test]
    public void LengthThatDoesNotMatchTheShapeIsRejected()
    {
        var e = Assert.Throws<CompressedModelException>(() => _model.Run(new float[64], [2, 64]));

        Assert.That(e!.Message, Does.Contain("has 64 elements, but shape [2,64] needs 128"));
    }

    [Test]
    public void WrongElementTypeIsRejected()
    {
        var input = ModelInput.Create("input", new double[Digits.Features], 1, Digits.Features);

        var e = Assert.Throws<CompressedModelException>(() => _model.Run([input]));

        Assert.That(e!.Message, Does.Contain("takes Float32 elements, not Float64"));
    }

    [Test]
    public void OutputBufferOfWrongLengthIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => _model.Run(Digits.Row(0), [1, Digits.Features], new float[9]));

        Assert.That(e!.ParamName, Is.EqualTo("output"));
        Assert.That(e.Message, Does.Contain("[1,10] = 10 elements"));
    }

    [Test]
    public void UnknownOutputNameListsTheModelOutputs()
    {
        var input = ModelInput.Create("input", new float[Digits.Features], 1, Digits.Features);

        var e = Assert.Throws<CompressedModelException>(() => _model.Run([input], ["probabilities"]));

        Assert.That(e!.Message, Does.Contain("no output 'probabilities'").And.Contain("logits: Float32[batch,10]"));
    }

    [Test]
    public void OutputRejectsAnotherElementType()
    {
        ModelOutput output = _model.Run(Digits.Row(0), [1, Digits.Features]);

        Assert.That(() => output.AsSpan<int>().Length, Throws.InvalidOperationException.With.Message.Contains("Float32"));
    }
}
