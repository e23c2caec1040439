#include "journal-parquet.h"

#include <memory>
#include <string>
#include <vector>

#include "journal-reader.h"
#include "parquet-writer.h"

namespace {

std::vector<ColumnSpec> SpecsOf(Napi::Array columns) {
  std::vector<ColumnSpec> specs;
  for (uint32_t i = 0; i < columns.Length(); i++) specs.push_back(ColumnSpecOf(columns.Get(i).As<Napi::Object>()));
  return specs;
}

class JournalParquetJs : public Napi::ObjectWrap<JournalParquetJs> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "JournalParquet",
        {InstanceMethod("pump", &JournalParquetJs::Pump), InstanceMethod("finish", &JournalParquetJs::Finish),
         InstanceAccessor("offset", &JournalParquetJs::Offset, nullptr),
         InstanceAccessor("rows", &JournalParquetJs::Rows, nullptr)});
  }

  explicit JournalParquetJs(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<JournalParquetJs>(info),
        reader_(info[0].As<Napi::Number>().Int32Value(), SpecsOf(info[1].As<Napi::Array>())),
        file_(reader_.columns(), info[2].ToBoolean()),
        row_group_rows_(info[3].As<Napi::Number>().Int64Value()) {
    if (row_group_rows_ <= 0)
      Napi::RangeError::New(info.Env(), "rowGroupRows must be positive").ThrowAsJavaScriptException();
  }

 private:
  // Rows [from, from + count) of a batch, waiting for their row group.
  struct Piece {
    std::shared_ptr<JournalBatch> batch;
    int64_t from, count;
  };

  Napi::Value Pump(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<std::shared_ptr<JournalBatch>> batches;
    std::string error;
    out_.clear();
    if (reader_.Read(info[0].As<Napi::Number>().Int64Value(), batches, &error))
      for (auto& batch : batches) {
        // As ParquetEncoder.add: a batch may be split between two row groups.
        for (int64_t from = 0; from < batch->rows && error.empty();) {
          int64_t count = std::min(batch->rows - from, row_group_rows_ - pending_);
          pieces_.push_back({batch, from, count});
          pending_ += count;
          from += count;
          if (pending_ == row_group_rows_) Flush(&error);
        }
      }
    if (!error.empty()) {
      Napi::Error::New(env, error).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Buffer<uint8_t>::Copy(env, out_.data(), out_.size());
  }

  Napi::Value Finish(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string error;
    out_.clear();
    if (pending_ > 0 && !Flush(&error)) {
      Napi::Error::New(env, error).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    file_.Finish(KeyValuesOf(info[0].As<Napi::Array>()), info[1].As<Napi::String>(), out_);
    return Napi::Buffer<uint8_t>::Copy(env, out_.data(), out_.size());
  }

  bool Flush(std::string* error) {
    std::vector<std::vector<ArrowSlice>> slices(file_.columns());
    for (size_t c = 0; c < slices.size(); c++)
      for (const Piece& p : pieces_) {
        ArrowSlice s = p.batch->columns[c];
        s.from = p.from;
        s.count = p.count;
        slices[c].push_back(s);
      }
    bool ok = file_.RowGroup(pending_, slices, out_, error);
    // The batches' memory goes with their last piece.
    pieces_.clear();
    pending_ = 0;
    return ok;
  }

  Napi::Value Offset(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(reader_.offset())); }
  Napi::Value Rows(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(reader_.rows())); }

  JournalReader reader_;
  ParquetFileWriter file_;
  int64_t row_group_rows_;
  std::vector<Piece> pieces_;
  int64_t pending_ = 0;
  std::vector<uint8_t> out_;
};

}  // namespace

void InitJournalParquet(Napi::Env env, Napi::Object exports) {
  exports.Set("JournalParquet", JournalParquetJs::Define(env));
}
