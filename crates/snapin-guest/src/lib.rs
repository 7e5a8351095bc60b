//! tmp
#[allow(missing_docs, unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "__export_snapin_plugin_world",
        default_bindings_module: "::snapin_guest::bindings",
    });
}
