using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Compress.Core.Calibration;
using Compress.Core.Diagnostics;
using Compress.Core.Evaluation;
using Compress.Core.IO;
using Compress.Core.Inspection;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Reports;
using Compress.Core.Spec;

namespace Compress.Core.Pipeline;

/// <summary>
/// Runs a spec: for each model, load → passes in order → save (atomically) → report.
/// A model that fails leaves no output behind; the other models still run.
/// </summary>
public sealed class CompressPipeline(IPipelineLog log)
{
    /// <summary>Metadata keys the pipeline writes into every output model.</summary>
    public const string MetadataPrefix = "compress.";


    public static string ToolVersion { get; } =
        typeof(CompressPipeline).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    /// <summary>Run-wide settings (caches, accuracy-failure severity); <see cref="CompressPipelineSettings.Default"/> when not set.</summary>
    public CompressPipelineSettings Settings { get; init; } = CompressPipelineSettings.Default;

    /// <summary>Samples of calibration data the activation SQNR is measured on (enough to rank layers, cheap).</summary>
    private const int ActivationSamples = 32;

    public PipelineResult Run(CompressSpec spec, string outputDirectory)
    {
        string outputRoot = Path.GetFullPath(outputDirectory);
        RemoveStaleTempFiles(spec, outputRoot);
        var cache = new ModelCache(Settings.CacheDirectories, log);
        var reports = new List<ModelReport>();
        var diagnostics = new List<Diagnostic>();
        var inputs = new SortedSet<string>(StringComparer.Ordinal) { spec.SpecPath };
        var outputs = new SortedSet<string>(StringComparer.Ordinal);

        foreach (ModelSpec model in spec.Models)
        {
            // Source, external data and pass data files: the build's up-to-date check and the cache key use them.
            IReadOnlyList<string> modelInputs = ModelInputFiles.Of(model);
            inputs.UnionWith(modelInputs);
            try
            {
                ModelReport report = cache.Run(model, modelInputs, outputRoot, outputs, cacheInfo => RunModel(model, cacheInfo, outputRoot, outputs, diagnostics));
                reports.Add(report);
                log.Info(Summary(report));
            }
            catch (CompressException e)
            {
                Diagnostic d = e.Diagnostic.File is null
                    ? e.Diagnostic with { File = spec.SpecPath, Line = model.Location.Line, Column = model.Location.Column }
                    : e.Diagnostic;
                diagnostics.Add(d);
                log.Report(d);
            }
        }

        return new PipelineResult { Models = reports, Diagnostics = diagnostics, Inputs = [.. inputs], Outputs = [.. outputs] };
    }

    // A run killed while writing leaves its temporary files beside the outputs; this run starts by removing them.
    private void RemoveStaleTempFiles(CompressSpec spec, string outputRoot)
    {
        IEnumerable<string> folders = spec.Models
            .SelectMany(m => new[] { m.OutputPath, m.ReportPath })
            .Select(relative => Path.GetDirectoryName(Path.GetFullPath(Path.Combine(outputRoot, relative)))!)
            .Prepend(outputRoot);
        foreach (string file in StalePendingFiles.Remove(folders, DateTime.UtcNow))
        {
            log.Info($"compress: removed {file}, left by an interrupted run");
        }
    }

    private ModelReport RunModel(ModelSpec model, ReportCacheInfo? cacheInfo, string outputRoot, SortedSet<string> outputs, List<Diagnostic> diagnostics)
    {
        var clock = Stopwatch.StartNew();
        string outputPath = Path.GetFullPath(Path.Combine(outputRoot, model.OutputPath));
        string reportPath = Path.GetFullPath(Path.Combine(outputRoot, model.ReportPath));

        // Like output_bytes, source_bytes counts the external data files.
        (ModelProto proto, long sourceBytes) = ModelInputFiles.LoadWithStoredBytes(model.SourcePath);

        // Passes read graph.initializer only: a source that stores weights sparse gets them back dense.
        SparseInitializerStorage.Densify(proto);
        var report = new ModelReport
        {
            Name = model.Name,
            Source = model.SourcePath,
            Output = outputPath,
            SourceBytes = sourceBytes,
            SourceSha256 = Sha256Of(model.SourcePath),
            Parameters = ModelInspector.CountParameters(proto),
            ToolVersion = ToolVersion,
            Cache = cacheInfo,
        };

        // The untouched source: evaluation compares with it, tuning re-runs the passes from it, weight SQNR reads it.
        ModelProto? original = model.Passes.Count > 0 || model.Evaluate is not null ? proto.Clone() : null;
        // Tuning re-runs the passes; the calibration of this first run is reused there.
        var context = new PassRunContext { Progress = new ModelProgress(log, model.Name), Calibrations = new CalibrationMemo(), PruningCurves = new StructuredPruningCurveMemo() };
        foreach (PassSpec pass in model.Passes)
        {
            IReadOnlyList<PassReport> passReports = PassRunner.Run(proto, pass, context);
            foreach (PassReport passReport in passReports)
            {
                report.Passes.Add(passReport);
            }

            if (IneffectivePass.Describe(pass, passReports) is { } ineffective)
            {
                Diagnostic warning = pass.Location.Warning(DiagnosticCodes.PassChangedNothing, $"Model '{model.Name}': {ineffective}");
                diagnostics.Add(warning);
                log.Report(warning);
            }
        }

        if (original is not null)
        {
            if (model.Evaluate is not null)
            {
                var evaluation = new ModelEvaluationStep(context, new TuningDecisionCache(Settings.CacheDirectories, log));
                proto = evaluation.Apply(model, original, proto, report, Settings.OnAccuracyFailure, d =>
                {
                    diagnostics.Add(d);
                    log.Report(d);
                });
            }

            report.WeightSqnr = WeightSqnr.Collect(report.Passes, proto);
            report.ActivationSqnr = MeasureActivations(model, original, proto);
        }

        StampMetadata(proto, report);
        if (model.Storage == InitializerStorage.Sparse)
        {
            // Last, after every pass and measurement: only the file's encoding changes, not the weights.
            report.SparseStorage = SparseInitializerStorage.Store(proto);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(outputPath)!);
        // Auto: a model over 2 GB keeps its tensors, sparse initializers' values and positions too, in <name>.onnx.data.
        OnnxModelFile.Save(proto, outputPath, new OnnxSaveOptions { ExternalData = ExternalDataMode.Auto, SizeLimitBytes = Settings.ExternalDataSizeLimitBytes });
        report.OutputBytes = new FileInfo(outputPath).Length;
        report.OutputSha256 = Sha256Of(outputPath);
        outputs.Add(outputPath);
        string externalData = outputPath + ".data";
        if (File.Exists(externalData))
        {
            if (ModelInputFiles.ExternalDataFiles(outputPath).Contains(externalData, StringComparer.Ordinal))
            {
                report.OutputBytes += new FileInfo(externalData).Length;
                outputs.Add(externalData);
            }
            else
            {
                // Left by an earlier run whose model needed external data; this model does not refer to it.
                File.Delete(externalData);
            }
        }

        if (model.Pack == Packing.PackFormat.Brotli)
        {
            // Shipped beside the .onnx; Compress.Runtime loads .onnx.br directly.
            outputs.Add(Packing.BrotliPacker.PackFile(outputPath));
        }

        report.DurationMs = clock.ElapsedMilliseconds;
        AtomicFile.WriteAllBytes(reportPath, JsonSerializer.SerializeToUtf8Bytes(report, ReportJson.Options));
        outputs.Add(reportPath);
        if (model.Evaluate is not null)
        {
            // Markdown summary and charts next to the JSON for models with an accuracy budget ('compress report' makes them for any report).
            outputs.UnionWith(ReportCompanionFiles.Write(reportPath));
        }
        return report;
    }

    /// <summary>
    /// Activation SQNR on the calibration data of the model's static quantize pass (the data users already
    /// gave for this model); null when no pass calibrates.
    /// </summary>
    private static IReadOnlyList<ActivationQuantizationError>? MeasureActivations(ModelSpec model, ModelProto original, ModelProto compressed)
    {
        CalibrationSpec? calibration = model.Passes.OfType<QuantizePassSpec>().Select(p => p.Calibration).LastOrDefault(c => c is not null);
        if (calibration is null)
        {
            return null;
        }

        CalibrationDataSet data = CalibrationDataSet.Open(calibration.ExpandDataPaths(), original, ActivationSamples);
        return ActivationSqnr.Measure(original, compressed, data, ActivationSamples);
    }

    /// <summary>
    /// Records provenance in the model's metadata so the runtime (and people) can tell what the build
    /// did. Only deterministic values: the same inputs give the same model bytes.
    /// </summary>
    private static void StampMetadata(ModelProto proto, ModelReport report)
    {
        var stamp = new Dictionary<string, string>
        {
            [MetadataPrefix + "version"] = report.ToolVersion,
            [MetadataPrefix + "source_sha256"] = report.SourceSha256,
            [MetadataPrefix + "passes"] = string.Join(",", report.Passes.Select(p => p.Pass)),
            [MetadataPrefix + "nodes_quantized"] = report.NodesQuantized.ToString(CultureInfo.InvariantCulture),
        };
        for (int i = proto.MetadataProps.Count - 1; i >= 0; i--)
        {
            if (stamp.ContainsKey(proto.MetadataProps[i].Key))
            {
                proto.MetadataProps.RemoveAt(i);
            }
        }

        foreach ((string key, string value) in stamp)
        {
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }
    }

    private static string Sha256Of(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string Summary(ModelReport report) => string.Create(
        CultureInfo.InvariantCulture,
        $"compress: {report.Name}: {report.SourceBytes:N0} B -> {report.OutputBytes:N0} B ({report.SizeRatio * 100:F1}%), {report.NodesQuantized} nodes quantized, {report.DurationMs} ms");
}
