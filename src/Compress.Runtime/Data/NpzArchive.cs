using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.IO.Compression;

namespace Compress.Runtime.Data;

/// <summary>
/// The arrays of a NumPy <c>.npz</c> file (a ZIP of <c>.npy</c> entries, stored or deflated), keyed by
/// entry name without the <c>.npy</c> extension — for models with several inputs, the input names.
/// </summary>
[SuppressMessage("Naming", "CA1710", Justification = "Named after the file format, like ZipArchive.")]
public sealed class NpzArchive : IReadOnlyDictionary<string, NpyArray>
{
    private readonly Dictionary<string, NpyArray> _arrays;

    private NpzArchive(Dictionary<string, NpyArray> arrays) => _arrays = arrays;

    /// <summary>Number of arrays in the archive.</summary>
    public int Count => _arrays.Count;

    /// <summary>Array names in archive order.</summary>
    public IEnumerable<string> Keys => _arrays.Keys;

    /// <summary>The arrays in archive order.</summary>
    public IEnumerable<NpyArray> Values => _arrays.Values;

    /// <summary>The array with the given name.</summary>
    public NpyArray this[string key] => _arrays.TryGetValue(key, out NpyArray? array)
        ? array
        : throw new KeyNotFoundException($"The archive has no array '{key}'; it has: {string.Join(", ", _arrays.Keys)}.");

    /// <summary>Reads every array of an <c>.npz</c> file.</summary>
    /// <exception cref="InvalidDataException">The file is not a ZIP of .npy arrays.</exception>
    public static NpzArchive Load(string path)
    {
        using FileStream stream = File.OpenRead(path);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid .npz file: {e.Message}", e);
        }

        using (zip)
        {
            var arrays = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            foreach (ZipArchiveEntry entry in zip.Entries)
            {
                string key = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
                using Stream content = entry.Open();
                arrays[key] = NpyArray.Read(content, $"{path}:{entry.FullName}");
            }

            return new NpzArchive(arrays);
        }
    }

    /// <inheritdoc />
    public bool ContainsKey(string key) => _arrays.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, out NpyArray value) => _arrays.TryGetValue(key, out value!);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, NpyArray>> GetEnumerator() => _arrays.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
