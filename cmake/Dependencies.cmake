# Third-party libraries, all from Debian 12 packages (scripts/setup.sh installs them).
# Where Debian ships a static archive and MEETING_STATIC_DEPS is on, the archive is linked, so
# the release binary needs only the C/C++ runtime and glibc on the target machine.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED)                 # Asio and Beast are header-only
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)

# spdlog and fmt ship only shared objects in Debian; use them header-only instead.
add_library(meeting_deps_log INTERFACE)
target_compile_definitions(meeting_deps_log INTERFACE SPDLOG_HEADER_ONLY SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)

# Finds lib<name>, preferring lib<name>.a when static linking is on; defines meeting::<target>.
function(meeting_find_library target libname)
  set(_names ${libname})
  if(MEETING_STATIC_DEPS)
    set(_names lib${libname}.a ${libname})
  endif()
  find_library(MEETING_LIB_${target} NAMES ${_names} REQUIRED)
  add_library(meeting::${target} UNKNOWN IMPORTED GLOBAL)
  set_target_properties(meeting::${target} PROPERTIES IMPORTED_LOCATION ${MEETING_LIB_${target}})
  if(ARGN)
    set_target_properties(meeting::${target} PROPERTIES INTERFACE_LINK_LIBRARIES "${ARGN}")
  endif()
endfunction()

meeting_find_library(crypto crypto Threads::Threads ${CMAKE_DL_LIBS})
meeting_find_library(ssl ssl meeting::crypto)
# Debian builds libsrtp2 against NSS (not OpenSSL), so its static archive needs NSS and NSPR,
# which Debian ships only as shared objects.
pkg_check_modules(MEETING_NSS REQUIRED nss)
meeting_find_library(srtp2 srtp2 ${MEETING_NSS_LINK_LIBRARIES} meeting::crypto)
meeting_find_library(usrsctp usrsctp Threads::Threads)
meeting_find_library(sqlite3 sqlite3 Threads::Threads m ${CMAKE_DL_LIBS})
meeting_find_library(sodium sodium)
meeting_find_library(mariadb mariadb meeting::ssl meeting::crypto z Threads::Threads ${CMAKE_DL_LIBS})

# libcurl sends invitation mail (SMTP + STARTTLS); Debian's OpenSSL flavour, linked dynamically
# (its static archive would pull in every protocol's dependencies).
find_package(CURL 7.85 REQUIRED)

find_path(MEETING_SRTP2_INCLUDE srtp2/srtp.h REQUIRED)
find_path(MEETING_USRSCTP_INCLUDE usrsctp.h REQUIRED)
find_path(MEETING_MARIADB_INCLUDE mysql.h PATH_SUFFIXES mariadb REQUIRED)

if(MEETING_TESTS)
  find_package(GTest REQUIRED)
endif()
if(MEETING_BENCH)
  find_package(benchmark REQUIRED)
endif()
