namespace Compress.Runtime.Tests;

public class ResourceLoadingTests
{
    // The csproj embeds ../shared/models/digits-mlp.onnx (by reference) as "Compress.Runtime.Tests.Models.digits-mlp.onnx".
    private const string ResourceName = "Compress.Runtime.Tests.Models.digits-mlp.onnx";

    [Test]
    public void EmbeddedModelGivesTheFileModelsOutputs()
    {
        float[] expected;
        using (CompressedModel fromFile = CompressedModel.Load(Digits.ModelPath))
        {
            expected = Digits.RunRowByRow(fromFile);
        }

        using CompressedModel model = CompressedModel.LoadFromResource(typeof(ResourceLoadingTests).Assembly, ResourceName);

        Assert.That(model.Name, Is.EqualTo("Models.digits-mlp"), "the assembly-name prefix and .onnx are dropped");
        Assert.That(model.Source, Is.EqualTo($"resource '{ResourceName}' in Compress.Runtime.Tests"));
        Assert.That(model.SizeInBytes, Is.EqualTo(new FileInfo(Digits.ModelPath).Length));
        Assert.That(Digits.RunRowByRow(model), Is.EqualTo(expected));
    }

    [Test]
    public void UniqueEndingOfTheResourceNameIsEnough()
    {
        using CompressedModel model = CompressedModel.LoadFromResource(typeof(ResourceLoadingTests).Assembly, "digits-mlp.onnx");

        Assert.That(model.Source, Does.Contain(ResourceName));
    }

    [Test]
    public void MissingResourceNamesTheModelAndListsTheResources()
    {
        var e = Assert.Throws<CompressedModelException>(
            () => CompressedModel.LoadFromResource(typeof(ResourceLoadingTests).Assembly, "absent.onnx"));

        Assert.That(e!.ModelName, Is.EqualTo("absent"));
        Assert.That(e.Message, Does.Contain("has no embedded resource 'absent.onnx'").And.Contain(ResourceName));
    }
}
