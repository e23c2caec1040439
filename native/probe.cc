// Hook feature probe for `gpo doctor`. For each program in probe.bpf.c: open the skeleton with every other
// program's autoload off, load, attach, record what happened, destroy. One program per object keeps a refused
// hook from hiding the others, and nothing stays attached afterwards.
#include "probe.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <string>

#include "libbpf-log.h"
#include "probe.skel.h"

namespace {

struct ProbeResult {
  std::string program;
  std::string section;
  bool loaded = false;
  bool attached = false;
  int error = 0;       // positive errno of the step that failed, 0 if none
  std::string detail;  // first libbpf warning of the failed step, or the uprobe target
};

// A uprobe target needs a file and an offset in it: find the mapping of libc's getpid in /proc/self/maps
// (file offset = address - mapping start + mapping file offset). Attaching by offset sidesteps libbpf 1.1's
// refusal of glibc symbols that carry two versions.
bool FindUprobeTarget(std::string* path, unsigned long* offset) {
  unsigned long address = reinterpret_cast<unsigned long>(&getpid);
  FILE* maps = fopen("/proc/self/maps", "r");
  if (!maps) return false;
  char line[4096];
  bool found = false;
  while (!found && fgets(line, sizeof line, maps)) {
    unsigned long start, end, file_offset;
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", &start, &end, &file_offset, &path_at) < 3) continue;
    if (address < start || address >= end || path_at == 0 || line[path_at] != '/') continue;
    std::string file(line + path_at);
    while (!file.empty() && file.back() == '\n') file.pop_back();
    *path = file;
    *offset = address - start + file_offset;
    found = true;
  }
  fclose(maps);
  return found;
}

ProbeResult ProbeOne(size_t index, bool verbose) {
  ProbeResult result;
  LibbpfLogBegin(verbose);
  struct probe_bpf* skel = probe_bpf__open();
  if (!skel) {
    result.error = errno;
    result.detail = LibbpfLogReason();
    return result;
  }
  struct bpf_program* target = nullptr;
  struct bpf_program* prog;
  size_t i = 0;
  bpf_object__for_each_program(prog, skel->obj) {
    bool chosen = i++ == index;
    if (chosen) target = prog;
    bpf_program__set_autoload(prog, chosen);
  }
  result.program = bpf_program__name(target);
  result.section = bpf_program__section_name(target);

  int err = probe_bpf__load(skel);
  if (err) {
    result.error = -err;
    result.detail = LibbpfLogReason();
    probe_bpf__destroy(skel);
    return result;
  }
  result.loaded = true;

  struct bpf_link* link = nullptr;
  if (target == skel->progs.probe_uprobe) {
    std::string path;
    unsigned long offset = 0;
    if (!FindUprobeTarget(&path, &offset)) {
      result.error = ENOENT;
      result.detail = "could not find libc's getpid in /proc/self/maps";
      probe_bpf__destroy(skel);
      return result;
    }
    // Only this process: a probe must not slow down every other process using libc.
    link = bpf_program__attach_uprobe(target, false, getpid(), path.c_str(), offset);
    char where[64];
    snprintf(where, sizeof where, "+0x%lx", offset);
    result.detail = path + where;
  } else {
    link = bpf_program__attach(target);
  }
  if (link) {
    result.attached = true;
    bpf_link__destroy(link);
  } else {
    result.error = errno;
    result.detail = LibbpfLogReason();
  }
  probe_bpf__destroy(skel);
  return result;
}

size_t ProgramCount() {
  struct probe_bpf* skel = probe_bpf__open();
  if (!skel) return 0;
  size_t count = 0;
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) count++;
  probe_bpf__destroy(skel);
  return count;
}

// The errno as text ("Operation not permitted") or as its name ("EPERM"); null when nothing failed.
Napi::Value ErrorValue(Napi::Env env, int error, bool name) {
  if (!error) return env.Null();
  const char* text = name ? strerrorname_np(error) : strerror(error);
  return text ? Napi::String::New(env, text) : Napi::String::New(env, std::to_string(error));
}

// probeHooks(options?: { verbose?: boolean }): one result per program in probe.bpf.c, in source order.
Napi::Value ProbeHooks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool verbose = false;
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Value v = info[0].As<Napi::Object>().Get("verbose");
    verbose = v.IsBoolean() && v.As<Napi::Boolean>().Value();
  }
  LibbpfLogBegin(verbose);

  Napi::Array results = Napi::Array::New(env);
  size_t count = ProgramCount();
  if (count == 0) {
    int error = errno;
    Napi::Error::New(env, std::string("cannot open the probe BPF object: ") + strerror(error))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  for (size_t i = 0; i < count; i++) {
    ProbeResult r = ProbeOne(i, verbose);
    Napi::Object o = Napi::Object::New(env);
    o.Set("program", r.program);
    o.Set("section", r.section);
    o.Set("loaded", r.loaded);
    o.Set("attached", r.attached);
    o.Set("error", ErrorValue(env, r.error, false));
    o.Set("errno", ErrorValue(env, r.error, true));
    o.Set("detail", r.detail.empty() ? env.Null() : Napi::String::New(env, r.detail));
    results.Set(static_cast<uint32_t>(i), o);
  }
  return results;
}

}  // namespace

void InitProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("probeHooks", Napi::Function::New(env, ProbeHooks, "probeHooks"));
}
