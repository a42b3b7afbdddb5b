using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Compress.Core.Spec;

/// <summary>Feeds an already-read (and filtered) list of parsing events to YamlDotNet's representation model.</summary>
internal sealed class EventReplayParser(IReadOnlyList<ParsingEvent> events) : IParser
{
    private int index = -1;

    public ParsingEvent? Current => index >= 0 && index < events.Count ? events[index] : null;

    public bool MoveNext()
    {
        if (index < events.Count)
        {
            index++;
        }

        return index < events.Count;
    }
}
