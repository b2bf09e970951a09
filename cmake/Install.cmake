# Headers, both libraries, nativeroute.pc and the CMake package
# (find_package(NativeRoute) -> NativeRoute::nativeroute).
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/nativeroute
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${NR_GENERATED_INCLUDE}/nativeroute/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nativeroute)

install(TARGETS nativeroute EXPORT NativeRouteTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS nativeroute_static
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

# pkg-config: libuv is public (it is in our headers); the rest are private.
set(NR_PC_REQUIRES_PRIVATE "libmnl msgpack")
if(NR_WITH_BPF)
  string(APPEND NR_PC_REQUIRES_PRIVATE " libbpf")
endif()
if(NR_WITH_NFTABLES)
  string(APPEND NR_PC_REQUIRES_PRIVATE " libnftables")
endif()
if(NR_WITH_ETCD)
  string(APPEND NR_PC_REQUIRES_PRIVATE " libcurl json-c")
endif()
configure_file(${PROJECT_SOURCE_DIR}/pkgconfig/nativeroute.pc.in
               ${PROJECT_BINARY_DIR}/nativeroute.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/nativeroute.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(NR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/NativeRoute)
install(EXPORT NativeRouteTargets NAMESPACE NativeRoute::
        FILE NativeRouteTargets.cmake DESTINATION ${NR_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/NativeRouteConfig.cmake.in
  ${PROJECT_BINARY_DIR}/NativeRouteConfig.cmake INSTALL_DESTINATION ${NR_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/NativeRouteConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/NativeRouteConfig.cmake
              ${PROJECT_BINARY_DIR}/NativeRouteConfigVersion.cmake
        DESTINATION ${NR_CMAKE_DIR})
