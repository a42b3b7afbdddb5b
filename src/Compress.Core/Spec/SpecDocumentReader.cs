using Compress.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>
/// Turns spec text into YamlDotNet's representation model (every node keeps its Start mark) while reporting
/// what the representation model cannot: syntax errors (CMP0001), aliases without an anchor (CMP0001),
/// extra YAML documents (CMP0001) and duplicate keys (CMP0015).
/// </summary>
/// <remarks>
/// YamlStream aborts the whole load at the first duplicate key, which would hide every other mistake of the
/// file. So the parser's events are read first, every later duplicate (key and value) is reported and
/// dropped, and the remaining events are loaded: validation continues with the first occurrence.
/// </remarks>
internal sealed class SpecDocumentReader
{
    private readonly SpecNodeReader reader;
    private readonly List<ParsingEvent> events = [];
    private readonly HashSet<string> anchors = new(StringComparer.Ordinal);
    private bool[] dropped = [];
    private bool aliasMissing;

    private SpecDocumentReader(SpecNodeReader reader) => this.reader = reader;

    /// <summary>
    /// Reads the first document's root node. Returns false when the text cannot be validated at all (syntax
    /// error); true with a null root for a stream without documents.
    /// </summary>
    public static bool TryRead(string yaml, SpecNodeReader reader, out YamlNode? root) =>
        new SpecDocumentReader(reader).TryRead(yaml, out root);

    private bool TryRead(string yaml, out YamlNode? root)
    {
        root = null;
        try
        {
            var parser = new Parser(new StringReader(yaml));
            while (parser.MoveNext())
            {
                events.Add(parser.Current!);
            }
        }
        catch (YamlException ex)
        {
            // YamlDotNet places tab errors at the start of the enclosing mapping; the tab itself is more useful.
            Mark at = ex.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) && FirstIndentingTab(yaml) is { } tab ? tab : ex.Start;
            reader.Error(DiagnosticCodes.YamlSyntax, at, $"YAML syntax error: {ex.Message}");
            return false;
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet 18.1 throws this instead of a YamlException for some malformed input (e.g. an unclosed
            // '{' followed by more lines); the last event read is the best position available.
            Mark at = events.Count > 0 ? events[^1].End : Mark.Empty;
            reader.Error(DiagnosticCodes.YamlSyntax, at, $"YAML syntax error after this point (an unclosed bracket or quote?): {ex.Message}");
            return false;
        }

        // Events: StreamStart, (DocumentStart, node, DocumentEnd)*, StreamEnd.
        int firstDocument = events.FindIndex(e => e is DocumentStart);
        if (firstDocument < 0)
        {
            return true;
        }

        int secondDocument = events.FindIndex(firstDocument + 1, e => e is DocumentStart);
        if (secondDocument >= 0)
        {
            reader.Error(
                DiagnosticCodes.YamlSyntax,
                events[secondDocument].Start,
                "A spec holds exactly one YAML document, but a second one starts here. List all models under the one 'models' key.");
        }

        dropped = new bool[events.Count];
        int documentEnd = Walk(firstDocument + 1, keepAnchors: true);
        if (aliasMissing)
        {
            return false;
        }

        var kept = new List<ParsingEvent> { events[0], events[firstDocument] };
        for (int i = firstDocument + 1; i < documentEnd; i++)
        {
            if (!dropped[i])
            {
                kept.Add(events[i]);
            }
        }

        kept.Add(events[documentEnd]);
        kept.Add(events[^1]);
        try
        {
            var stream = new YamlStream();
            stream.Load(new EventReplayParser(kept));
            root = stream.Documents[0].RootNode;
            return true;
        }
        catch (YamlException ex)
        {
            reader.Error(DiagnosticCodes.YamlSyntax, ex.Start, $"YAML syntax error: {ex.Message}");
            return false;
        }
    }

    /// <summary>The first tab used for indentation (YAML forbids it), 1-based.</summary>
    private static Mark? FirstIndentingTab(string yaml)
    {
        string[] lines = yaml.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int indent = line.Length - line.TrimStart(' ', '\t').Length;
            int tab = line.IndexOf('\t', 0, indent);
            if (tab >= 0)
            {
                return new Mark(0, i + 1, tab + 1);
            }
        }

        return null;
    }

    /// <summary>Checks the node starting at <paramref name="index"/>; returns the index after it.</summary>
    private int Walk(int index, bool keepAnchors)
    {
        ParsingEvent current = events[index];
        if (keepAnchors && current is NodeEvent { Anchor.IsEmpty: false } node)
        {
            anchors.Add(node.Anchor.Value);
        }

        switch (current)
        {
            case AnchorAlias alias:
                if (!anchors.Contains(alias.Value.Value) && !aliasMissing)
                {
                    aliasMissing = true;
                    reader.Error(
                        DiagnosticCodes.YamlSyntax,
                        alias.Start,
                        $"'*{alias.Value.Value}' is an alias, but no node before it has the anchor '&{alias.Value.Value}'. Values starting with '*' (such as node-name globs) must be quoted: '*{alias.Value.Value}'.");
                }

                return index + 1;

            case SequenceStart:
                index++;
                while (events[index] is not SequenceEnd)
                {
                    index = Walk(index, keepAnchors);
                }

                return index + 1;

            case MappingStart:
                index++;
                var seen = new Dictionary<string, Mark>(StringComparer.Ordinal);
                while (events[index] is not MappingEnd)
                {
                    int keyIndex = index;
                    bool duplicate = events[keyIndex] is Scalar key && !seen.TryAdd(key.Value, key.Start);
                    index = Walk(index, keepAnchors && !duplicate);
                    index = Walk(index, keepAnchors && !duplicate);
                    if (duplicate)
                    {
                        var key2 = (Scalar)events[keyIndex];
                        Mark first = seen[key2.Value];
                        reader.Error(
                            DiagnosticCodes.DuplicateKey,
                            key2.Start,
                            $"Duplicate key '{key2.Value}': it already appears at line {first.Line} of this mapping. Keep one of them.");
                        Array.Fill(dropped, true, keyIndex, index - keyIndex);
                    }
                }

                return index + 1;

            default:
                return index + 1;
        }
    }
}
