namespace Compress.Cli.Tests;

/// <summary>A temporary folder holding a spec and receiving outputs; deleted on dispose.</summary>
internal sealed class Workspace : IDisposable
{
    public Workspace()
    {
        Root = Directory.CreateTempSubdirectory("compress-cli-").FullName;
        Output = Path.Combine(Root, "out");
    }

    public string Root { get; }

    public string Output { get; }

    public string SpecPath => Path.Combine(Root, "compress.yaml");

    public string WriteSpec(string yaml)
    {
        File.WriteAllText(SpecPath, yaml.ReplaceLineEndings("\n"));
        return SpecPath;
    }

    public string[] OutputFiles() =>
        Directory.Exists(Output) ? Directory.GetFiles(Output, "*", SearchOption.AllDirectories) : [];

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
