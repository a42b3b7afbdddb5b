namespace Compress.Core.Calibration;

/// <summary>The kinds of <see cref="DataPart"/>.</summary>
internal enum DataPartKind
{
    Npy,
    Npz,
    PbFolder,
    BackendTestSet,
}
