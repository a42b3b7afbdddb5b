using System.Security;
using Compress.Core.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>
/// Loads <c>compress.yaml</c>: parses it with YamlDotNet's representation model, validates it against the
/// v1 rules and returns the typed spec or every error found, each positioned at the offending key or value.
/// </summary>
public static class SpecLoader
{
    /// <summary>
    /// Reads and validates the spec file at <paramref name="path"/>. A file that cannot be read gives
    /// CMP0011 without a position (line 0).
    /// </summary>
    public static SpecLoadResult Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string fullPath = Path.GetFullPath(path);
        string yaml;
        try
        {
            if (Directory.Exists(fullPath))
            {
                return Unreadable(fullPath, "it is a folder, not a file");
            }

            yaml = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Unreadable(fullPath, "the file does not exist");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SecurityException)
        {
            return Unreadable(fullPath, ex.Message);
        }

        return Parse(yaml, fullPath);
    }

    /// <summary>
    /// Validates spec text. <paramref name="path"/> names the file in diagnostics and anchors relative
    /// paths (source models are looked up relative to its folder); the file itself is not read.
    /// </summary>
    public static SpecLoadResult Parse(string yaml, string path)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(path);
        string fullPath = Path.GetFullPath(path);
        var reader = new SpecNodeReader(fullPath);
        CompressSpec? spec = null;
        if (SpecDocumentReader.TryRead(yaml, reader, out YamlNode? root))
        {
            spec = SpecValidator.Validate(reader, fullPath, root);
        }

        List<Diagnostic> ordered = [.. reader.Diagnostics.OrderBy(d => d.Line).ThenBy(d => d.Column)];
        return new SpecLoadResult(reader.ErrorCount == 0 ? spec : null, ordered);
    }

    private static SpecLoadResult Unreadable(string fullPath, string reason) =>
        new(null, [Diagnostic.Error(DiagnosticCodes.SpecUnreadable, $"Cannot read the spec file: {reason.TrimEnd('.')}.", fullPath)]);
}
