using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Compress.Core.IO;
using Compress.Core.Passes;
using Compress.Core.Reports;
using Compress.Core.Spec;

namespace Compress.Core.Pipeline;

/// <summary>
/// Content-addressed cache of compressed models: <c>&lt;cache&gt;/&lt;key&gt;/</c> holds one model's output
/// files (model, external data, report) under their paths relative to the output folder, with
/// <c>&lt;key&gt;</c> from <see cref="ModelCacheKey"/>. An entry is filled in a temporary folder and renamed
/// into place, so an entry that exists is complete; concurrent writers of the same key are harmless (the
/// first rename wins, the bytes are the same). A hit copies the files into the output folder (temporary
/// file + rename each) and rewrites the report's paths and duration, with <c>"cache": {"status": "hit"}</c>.
/// Any cache problem falls back to compressing: the cache can make a build faster, never fail it.
/// </summary>
internal sealed class ModelCache(IReadOnlyList<string> directories, IPipelineLog log)
{
    private static readonly TimeSpan AbandonedEntryAge = TimeSpan.FromHours(1);

    /// <summary>
    /// Returns the cached result of <paramref name="model"/> when one of the caches has it, otherwise runs
    /// <paramref name="compress"/> (given the cache section its report records, null without a cache) and stores
    /// its outputs in every cache. Restored files are added to <paramref name="outputs"/> (<paramref name="compress"/> adds its own).
    /// </summary>
    public ModelReport Run(ModelSpec model, IReadOnlyList<string> inputFiles, string outputRoot, ISet<string> outputs, Func<ReportCacheInfo?, ModelReport> compress)
    {
        if (directories.Count == 0)
        {
            return compress(null);
        }

        var clock = Stopwatch.StartNew();
        string key;
        try
        {
            key = ModelCacheKey.Compute(model, inputFiles);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A missing or unreadable input: compressing reports it with its proper code.
            return compress(null);
        }

        for (int i = 0; i < directories.Count; i++)
        {
            string entry = Path.Combine(directories[i], key);
            if (Directory.Exists(entry) && TryRestore(model, entry, key, outputRoot, clock) is { } hit)
            {
                log.Info($"compress: {model.Name}: cache hit {key[..12]} in {directories[i]}");
                foreach (string file in FilesOf(model, outputRoot))
                {
                    outputs.Add(file);
                }

                for (int j = 0; j < i; j++)
                {
                    TryStore(model, directories[j], key, outputRoot);
                }

                return hit;
            }
        }

        ModelReport report = compress(ReportCacheInfo.Miss(key));
        foreach (string directory in directories)
        {
            TryStore(model, directory, key, outputRoot);
        }

        return report;
    }

    private ModelReport? TryRestore(ModelSpec model, string entry, string key, string outputRoot, Stopwatch clock)
    {
        try
        {
            string cachedModel = Path.Combine(entry, model.OutputPath);
            string cachedReport = Path.Combine(entry, model.ReportPath);
            if (!File.Exists(cachedModel) || !File.Exists(cachedReport))
            {
                return null;
            }

            // Data first: the restored model must never point at an old data file.
            string cachedData = cachedModel + ".data";
            string outputModel = Path.Combine(outputRoot, model.OutputPath);
            if (File.Exists(cachedData))
            {
                CopyAtomically(cachedData, outputModel + ".data");
            }
            else
            {
                File.Delete(outputModel + ".data");
            }

            CopyAtomically(cachedModel, outputModel);
            JsonObject report = JsonNode.Parse(File.ReadAllBytes(cachedReport))!.AsObject();
            report["source"] = model.SourcePath;
            report["output"] = Path.GetFullPath(outputModel);
            long compressedInMs = report["duration_ms"]?.GetValue<long>() ?? 0;
            report["duration_ms"] = clock.ElapsedMilliseconds;
            report["cache"] = new JsonObject { ["status"] = "hit", ["key"] = key, ["compressed_in_ms"] = compressedInMs };
            AtomicFile.WriteAllBytes(Path.Combine(outputRoot, model.ReportPath), JsonSerializer.SerializeToUtf8Bytes(report, ReportJson.Options));
            return ToModelReport(report);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or Diagnostics.CompressException)
        {
            log.Info($"compress: {model.Name}: cache entry {key[..12]} is unusable ({e.Message}); compressing instead");
            return null;
        }
    }

    private void TryStore(ModelSpec model, string directory, string key, string outputRoot)
    {
        string entry = Path.Combine(directory, key);
        string staging = Path.Combine(directory, ".tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            if (Directory.Exists(entry))
            {
                return;
            }

            Directory.CreateDirectory(directory);
            RemoveAbandonedStagingFolders(directory);
            foreach (string file in FilesOf(model, outputRoot))
            {
                string target = Path.Combine(staging, Path.GetRelativePath(outputRoot, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            Directory.Move(staging, entry);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another build stored the same key first, or the cache is not writable: the result stands anyway.
            if (!Directory.Exists(entry))
            {
                log.Info($"compress: {model.Name}: not cached in {directory}: {e.Message}");
            }
        }
        finally
        {
            TryDelete(staging);
        }
    }

    /// <summary>The output files of <paramref name="model"/> that exist: model, external data, report.</summary>
    private static IEnumerable<string> FilesOf(ModelSpec model, string outputRoot)
    {
        string outputModel = Path.GetFullPath(Path.Combine(outputRoot, model.OutputPath));
        string report = Path.GetFullPath(Path.Combine(outputRoot, model.ReportPath));
        // Everything a run writes: the model, its external data and Brotli pack, the report and its companions.
        foreach (string file in new[] { outputModel, outputModel + ".data", outputModel + ".br", report }.Concat(Reports.ReportCompanionFiles.PathsOf(report)))
        {
            if (File.Exists(file))
            {
                yield return file;
            }
        }
    }

    private static void CopyAtomically(string source, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        using var pending = new PendingFile(Path.GetFullPath(target));
        using (FileStream to = pending.OpenWrite())
        using (FileStream from = File.OpenRead(source))
        {
            from.CopyTo(to);
            to.Flush(flushToDisk: true);
        }

        pending.Commit();
    }

    // Staging folders of builds that were killed while storing; old ones cannot belong to a running build.
    private static void RemoveAbandonedStagingFolders(string directory)
    {
        foreach (string staging in Directory.GetDirectories(directory, ".tmp-*"))
        {
            if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(staging) > AbandonedEntryAge)
            {
                TryDelete(staging);
            }
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort; RemoveAbandonedStagingFolders retries later.
        }
    }

    /// <summary>Rebuilds the in-memory report of a cached run (for the summary line and the pipeline's result).</summary>
    private static ModelReport ToModelReport(JsonObject json)
    {
        var report = new ModelReport
        {
            Name = json["name"]!.GetValue<string>(),
            Source = json["source"]!.GetValue<string>(),
            Output = json["output"]!.GetValue<string>(),
            SourceBytes = json["source_bytes"]?.GetValue<long>() ?? 0,
            SourceSha256 = json["source_sha256"]?.GetValue<string>() ?? "",
            Parameters = json["parameters"]?.GetValue<long>() ?? 0,
            ToolVersion = json["tool_version"]?.GetValue<string>() ?? "",
            OutputBytes = json["output_bytes"]?.GetValue<long>() ?? 0,
            OutputSha256 = json["output_sha256"]?.GetValue<string>() ?? "",
            DurationMs = json["duration_ms"]?.GetValue<long>() ?? 0,
        };
        foreach (JsonNode? node in json["passes"]?.AsArray() ?? [])
        {
            if (node is JsonObject pass)
            {
                report.Passes.Add(ToPassReport(pass));
            }
        }

        return report;
    }

    private static PassReport ToPassReport(JsonObject json)
    {
        var pass = new PassReport(json["pass"]?.GetValue<string>() ?? "")
        {
            NodesQuantized = json["nodes_quantized"]?.GetValue<int>() ?? 0,
            WeightsQuantized = json["weights_quantized"]?.GetValue<int>() ?? 0,
            ParametersQuantized = json["parameters_quantized"]?.GetValue<long>() ?? 0,
            ConstantsRemoved = json["constants_removed"]?.GetValue<int>() ?? 0,
        };
        foreach (JsonNode? node in json["skipped_nodes"]?.AsArray() ?? [])
        {
            pass.AddSkipped(new SkippedNode(
                node?["node"]?.GetValue<string>() ?? "",
                node?["op_type"]?.GetValue<string>() ?? "",
                node?["graph"]?.GetValue<string>() ?? "",
                node?["reason"]?.GetValue<string>() ?? ""));
        }

        foreach (JsonNode? note in json["notes"]?.AsArray() ?? [])
        {
            pass.AddNote(note?.GetValue<string>() ?? "");
        }

        foreach ((string name, JsonNode? value) in json["counts"]?.AsObject() ?? [])
        {
            pass.AddCount(name, value?.GetValue<long>() ?? 0);
        }

        return pass;
    }
}
