using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;

namespace Compress.Tasks.Tests;

/// <summary>The portable PDB embedded in an assembly (<c>DebugType=embedded</c>), read with System.Reflection.Metadata.</summary>
internal sealed class EmbeddedPdb
{
    // Custom debug information kinds of the portable PDB format (dotnet/runtime docs/design/specs/PortablePdb-Metadata.md).
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    private static readonly Guid EmbeddedSourceKind = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    private EmbeddedPdb(string? sourceLink, IReadOnlyList<PdbDocument> documents)
    {
        SourceLink = sourceLink;
        Documents = documents;
    }

    /// <summary>The SourceLink JSON, or null when the PDB has none.</summary>
    public string? SourceLink { get; }

    public IReadOnlyList<PdbDocument> Documents { get; }

    /// <summary>Reads the PDB embedded in <paramref name="assembly"/>; fails the test when there is none.</summary>
    public static EmbeddedPdb Read(byte[] assembly)
    {
        using var pe = new PEReader(new MemoryStream(assembly));
        DebugDirectoryEntry[] embedded = [.. pe.ReadDebugDirectory().Where(e => e.Type == DebugDirectoryEntryType.EmbeddedPortablePdb)];
        Assert.That(embedded, Has.Length.EqualTo(1), "the assembly embeds its portable PDB");
        using MetadataReaderProvider provider = pe.ReadEmbeddedPortablePdbDebugDirectoryData(embedded[0]);
        MetadataReader pdb = provider.GetMetadataReader();

        string? sourceLink = null;
        var embeddedSources = new HashSet<DocumentHandle>();
        foreach (CustomDebugInformationHandle handle in pdb.CustomDebugInformation)
        {
            CustomDebugInformation info = pdb.GetCustomDebugInformation(handle);
            Guid kind = pdb.GetGuid(info.Kind);
            if (kind == SourceLinkKind && info.Parent.Kind == HandleKind.ModuleDefinition)
            {
                sourceLink = Encoding.UTF8.GetString(pdb.GetBlobBytes(info.Value));
            }
            else if (kind == EmbeddedSourceKind && info.Parent.Kind == HandleKind.Document)
            {
                embeddedSources.Add((DocumentHandle)info.Parent);
            }
        }

        PdbDocument[] documents = [.. pdb.Documents.Select(h => new PdbDocument(pdb.GetString(pdb.GetDocument(h).Name), embeddedSources.Contains(h)))];
        return new EmbeddedPdb(sourceLink, documents);
    }
}

/// <summary>A source file named in a PDB, and whether its text is embedded in the PDB.</summary>
internal sealed record PdbDocument(string Path, bool IsEmbedded);
