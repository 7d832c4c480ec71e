#include "raw_zip.h"

#include <zlib.h>

namespace preserve::testing {

namespace {

void Put(Bytes& out, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

constexpr std::size_t kMebibyte = 1 << 20;

}  // namespace

ZipMember StoredMember(std::string name, std::string_view content) {
  ZipMember m;
  m.name = std::move(name);
  m.data = ToBytes(content);
  m.crc = static_cast<std::uint32_t>(crc32(0, m.data.data(), static_cast<uInt>(m.data.size())));
  m.size = static_cast<std::uint32_t>(content.size());
  return m;
}

ZipMember DeflatedZeros(std::string name, std::uint32_t mib) {
  static const Bytes zeros(kMebibyte, 0);
  static const Bytes block = [] {
    z_stream z{};
    deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
    Bytes out(deflateBound(&z, zeros.size()) + 64);
    z.next_in = const_cast<Bytef*>(zeros.data());
    z.avail_in = static_cast<uInt>(zeros.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FULL_FLUSH);  // byte-aligned, no reference to what came before: repeatable
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
  }();
  static const uLong block_crc = crc32(0, zeros.data(), static_cast<uInt>(zeros.size()));
  ZipMember m;
  m.name = std::move(name);
  m.method = 8;
  m.data.reserve(block.size() * mib + 2);
  uLong crc = 0;
  for (std::uint32_t i = 0; i < mib; ++i) {
    m.data.insert(m.data.end(), block.begin(), block.end());
    crc = crc32_combine(crc, block_crc, kMebibyte);
  }
  m.data.push_back(0x03);  // an empty final block (fixed Huffman)
  m.data.push_back(0x00);
  m.crc = static_cast<std::uint32_t>(crc);
  m.size = mib << 20;
  return m;
}

Bytes ZipOf(const std::vector<ZipMember>& members) {
  Bytes zip, directory;
  std::vector<std::uint64_t> offsets;
  for (const ZipMember& m : members) {
    const bool own = !m.shares_entry;
    offsets.push_back(own ? zip.size() : offsets.at(*m.shares_entry));
    for (Bytes* out : {&zip, &directory}) {
      const bool central = out == &directory;
      if (!central && !own) continue;
      const std::string& name = !central && m.local_name ? *m.local_name : m.name;
      Put(*out, central ? 0x02014b50 : 0x04034b50, 4);
      if (central) Put(*out, 20, 2);  // version made by
      Put(*out, 20, 2);               // version needed
      Put(*out, m.utf8_flag ? 0x800 : 0, 2);
      Put(*out, m.method, 2);
      Put(*out, 0, 2);     // time
      Put(*out, 0x21, 2);  // date: 1980-01-01
      Put(*out, m.crc, 4);
      Put(*out, m.data.size(), 4);
      Put(*out, m.size, 4);
      Put(*out, name.size(), 2);
      Put(*out, 0, 2);  // extra
      if (central) {
        Put(*out, 0, 2);  // comment
        Put(*out, 0, 2);  // disk
        Put(*out, 0, 2);  // internal attributes
        Put(*out, 0, 4);  // external attributes
        Put(*out, offsets.back(), 4);
      }
      out->insert(out->end(), name.begin(), name.end());
    }
    if (own) zip.insert(zip.end(), m.data.begin(), m.data.end());
  }
  const std::uint64_t directory_offset = zip.size();
  zip.insert(zip.end(), directory.begin(), directory.end());
  Put(zip, 0x06054b50, 4);
  Put(zip, 0, 4);  // disks
  Put(zip, members.size(), 2);
  Put(zip, members.size(), 2);
  Put(zip, directory.size(), 4);
  Put(zip, directory_offset, 4);
  Put(zip, 0, 2);  // comment
  return zip;
}

}  // namespace preserve::testing
