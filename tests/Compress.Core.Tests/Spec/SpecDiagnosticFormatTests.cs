using Compress.Core.Spec;

namespace Compress.Core.Tests.Spec;

/// <summary>Spec diagnostics render in MSBuild's canonical error format, which IDEs turn into clickable errors.</summary>
public sealed class SpecDiagnosticFormatTests
{
    [Test]
    public void PositionedErrorRendersAsPathLineColumnCodeMessage()
    {
        using var workspace = new SpecWorkspace();

        SpecLoadResult result = workspace.Parse(SpecTemplate.With(8, "          per_chanel: true"));

        Assert.That(
            result.Diagnostics.Single().ToString(),
            Is.EqualTo($"{workspace.SpecPath}(8,11): error CMP0002: Unknown key 'per_chanel' in quantize options. Did you mean 'per_channel'?"));
    }

    [Test]
    public void UnreadableFileRendersWithoutPosition()
    {
        using var workspace = new SpecWorkspace();
        string path = Path.Combine(workspace.Folder, "nope.yaml");

        SpecLoadResult result = SpecLoader.Load(path);

        Assert.That(result.Diagnostics.Single().ToString(), Is.EqualTo($"{path}: error CMP0011: Cannot read the spec file: the file does not exist."));
    }

    [Test]
    public void RelativeSpecPathIsReportedAsAFullPath()
    {
        using var workspace = new SpecWorkspace();
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, workspace.SpecPath);

        SpecLoadResult result = SpecLoader.Parse("version: 3\n", relative);

        Assert.That(result.Diagnostics.Single().File, Is.EqualTo(workspace.SpecPath));
    }
}
