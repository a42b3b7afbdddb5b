using Compress.Core.Diagnostics;
using Compress.Core.IO;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Calibration;

/// <summary>
/// Calibration samples for one model, read from <c>.npy</c>, <c>.npz</c> and TensorProto <c>.pb</c>
/// files (see docs/compress-yaml.md, "Data files") and handed out as a stream of batches. Opening
/// reads every file once to check it against the model's inputs, so mistakes surface before any
/// model runs; batches are then cut from one file at a time, and only the current batch's tensors exist.
/// </summary>
/// <remarks>
/// Several files (a list, a glob or a folder) are concatenated in order. A batch never spans two
/// files. Arrays map to inputs by name (.npz, .pb tensor names) or position (<c>input_N.pb</c>);
/// a .npy feeds a single-input model. A 0-d array is fed unchanged with every batch.
/// </remarks>
public sealed class CalibrationDataSet
{
    private readonly IReadOnlyList<DeclaredInput> _inputs;
    private readonly List<(DataPart Part, int Samples)> _parts;
    private List<InputLayout>? _singlePartLayouts;

    private CalibrationDataSet(IReadOnlyList<DeclaredInput> inputs, IReadOnlyList<string> files, IReadOnlyList<string> inputNames, List<(DataPart, int)> parts, int maxBatchSize, int? maxSamples)
    {
        _inputs = inputs;
        Files = files;
        InputNames = inputNames;
        _parts = parts;
        MaxBatchSize = maxBatchSize;
        TotalSampleCount = parts.Sum(p => p.Item2);
        SampleCount = maxSamples is int cap ? Math.Min(cap, TotalSampleCount) : TotalSampleCount;
    }

    /// <summary>The data files and folders, resolved and in sample order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The model inputs the batches feed, in model input order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>Samples in all files.</summary>
    public int TotalSampleCount { get; }

    /// <summary>Samples the batches hold: <see cref="TotalSampleCount"/> capped by the sample limit.</summary>
    public int SampleCount { get; }

    /// <summary>1 when an input's batch axis is declared with a fixed size 1; otherwise unlimited.</summary>
    public int MaxBatchSize { get; }

    /// <summary>
    /// Opens calibration data for <paramref name="model"/>. Each path is a file (.npy, .npz), a folder
    /// (of <c>input_N.pb</c>, of <c>test_data_set_N</c> folders, or of .npy/.npz files) or a glob;
    /// relative paths resolve against <paramref name="baseDirectory"/> (default: the current folder).
    /// </summary>
    /// <param name="paths">Files, folders or globs, in the order their samples are used.</param>
    /// <param name="model">The model the data feeds (its main-graph inputs are matched).</param>
    /// <param name="maxSamples">Use only the first this many samples; null uses all.</param>
    /// <param name="baseDirectory">Folder relative paths are resolved against.</param>
    /// <exception cref="CompressException">
    /// CMP0014 when a path or glob matches nothing; CMP1007 when a file cannot be read or does not fit the
    /// model (no array for an input, wrong rank or fixed dimension, element type, sample counts that differ).
    /// </exception>
    public static CalibrationDataSet Open(IReadOnlyList<string> paths, ModelProto model, int? maxSamples = null, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(model);
        if (maxSamples is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSamples), maxSamples, "The sample limit must be at least 1.");
        }

        if (paths.Count == 0)
        {
            throw new CompressException(DiagnosticCodes.DataFileMissing, "No calibration data was given: list .npy, .npz files or folders of .pb files.");
        }

        IReadOnlyList<DeclaredInput> inputs = DeclaredInput.Of(model);
        List<string> files = Resolve(paths, baseDirectory);
        var parts = new List<(DataPart, int)>();
        List<InputLayout>? lastLayouts = null;
        IReadOnlyList<string>? inputNames = null;
        int maxBatch = int.MaxValue;
        foreach (DataPart part in files.SelectMany(DataPart.From))
        {
            lastLayouts = Layouts(part, inputs);
            IReadOnlyList<string> fed = lastLayouts.Select(l => l.Input.Name).ToList();
            if (inputNames is null)
            {
                inputNames = fed;
            }
            else if (!inputNames.SequenceEqual(fed))
            {
                throw new CompressException(
                    DiagnosticCodes.DataFileInvalid,
                    $"'{Path.GetFileName(part.Path)}' feeds inputs {string.Join(", ", fed)}, but the data before it feeds {string.Join(", ", inputNames)}; every file must feed the same inputs.",
                    part.Path);
            }

            if (lastLayouts.Any(l => l.FixedBatchOfOne))
            {
                maxBatch = 1;
            }

            parts.Add((part, SampleCountOf(part, lastLayouts)));
        }

        var set = new CalibrationDataSet(inputs, files, inputNames ?? [], parts, maxBatch, maxSamples);
        if (parts.Count == 1)
        {
            // One file: keep what was read for the check instead of reading it again.
            set._singlePartLayouts = lastLayouts;
        }

        return set;
    }

    /// <summary>
    /// The samples as batches of at most <paramref name="batchSize"/> (and at most <see cref="MaxBatchSize"/>)
    /// samples, in data order, stopping after <see cref="SampleCount"/>. Each batch must be disposed by the caller;
    /// only the current file is held in memory.
    /// </summary>
    public IEnumerable<CalibrationBatch> ReadBatches(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return ReadBatchesCore(Math.Min(batchSize, MaxBatchSize));
    }

    private IEnumerable<CalibrationBatch> ReadBatchesCore(int batchSize)
    {
        int remaining = SampleCount;
        int first = 0;
        foreach ((DataPart part, int samples) in _parts)
        {
            if (remaining == 0)
            {
                yield break;
            }

            List<InputLayout> layouts = _singlePartLayouts ?? Layouts(part, _inputs);
            for (int start = 0; start < samples && remaining > 0; start += batchSize)
            {
                int count = Math.Min(Math.Min(batchSize, samples - start), remaining);
                var values = new OrtValue[layouts.Count];
                try
                {
                    for (int i = 0; i < layouts.Count; i++)
                    {
                        values[i] = layouts[i].CreateBatch(start, count);
                    }
                }
                catch
                {
                    foreach (OrtValue? v in values)
                    {
                        v?.Dispose();
                    }

                    throw;
                }

                remaining -= count;
                yield return new CalibrationBatch(InputNames, values, first, count);
                first += count;
            }
        }
    }

    private static List<string> Resolve(IReadOnlyList<string> paths, string? baseDirectory)
    {
        var files = new List<string>();
        foreach (string path in paths)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                throw new CompressException(DiagnosticCodes.DataFileMissing, "A calibration data path is empty.");
            }

            string full = Path.GetFullPath(path, baseDirectory ?? Directory.GetCurrentDirectory());
            IReadOnlyList<string> matches = PathGlob.Expand(full);
            if (matches.Count == 0)
            {
                string message = PathGlob.IsGlob(path)
                    ? $"The calibration data pattern '{path}' matches no file (looked for '{full}')."
                    : $"The calibration data file '{path}' was not found (looked for '{full}').";
                throw new CompressException(DiagnosticCodes.DataFileMissing, message, path);
            }

            files.AddRange(matches);
        }

        return files;
    }

    private static List<InputLayout> Layouts(DataPart part, IReadOnlyList<DeclaredInput> inputs)
    {
        Dictionary<string, StoredArray> arrays = part.Load(inputs);
        return inputs.Where(i => arrays.ContainsKey(i.Name)).Select(i => InputLayout.Create(i, arrays[i.Name])).ToList();
    }

    private static int SampleCountOf(DataPart part, List<InputLayout> layouts)
    {
        var batched = layouts.Where(l => !l.IsShared).ToList();
        string name = Path.GetFileName(part.Path);
        if (batched.Count == 0)
        {
            throw new CompressException(DiagnosticCodes.DataFileInvalid, $"'{name}' holds only 0-d arrays, so it has no samples: at least one input needs samples along axis 0.", part.Path);
        }

        if (batched.Select(l => l.SampleCount).Distinct().Count() > 1)
        {
            string counts = string.Join(", ", batched.Select(l => $"{l.Input.Name} ({l.Array.Label}) {l.SampleCount}"));
            throw new CompressException(DiagnosticCodes.DataFileInvalid, $"'{name}' has different sample counts per input: {counts}. Every array except 0-d ones needs the same number of samples.", part.Path);
        }

        long samples = batched[0].SampleCount;
        if (samples == 0)
        {
            throw new CompressException(DiagnosticCodes.DataFileInvalid, $"'{name}' holds no samples (its arrays have 0 rows).", part.Path);
        }

        return (int)Math.Min(samples, int.MaxValue);
    }
}
