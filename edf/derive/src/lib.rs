//! `#[derive(Edf)]` for `ergo-edf`: registered structs, named newtypes and custom marshalers.
//!
//! The generated code implements `ergo_edf::Edf` (body = fields in declaration order, no tags,
//! as Go writes registered structs) and `ergo_edf::Registered` (name, registration slot, layout).

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Expr, ExprLit, Fields, Lit};

/// See `ergo_edf::Edf`.
#[proc_macro_derive(Edf, attributes(edf))]
pub fn derive_edf(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

struct Attrs {
    /// `name = "..."` or `name = SOME_CONST` (any `&'static str` expression).
    name: Option<Expr>,
    /// `package = "#pkg/path"` or a constant: the name is the package + `/` + the type name.
    package: Option<Expr>,
    custom: bool,
}

/// Checks a literal name's length at compile time; other expressions are checked when the type
/// is registered.
fn check_literal(meta: &syn::meta::ParseNestedMeta<'_>, e: &Expr, what: &str) -> syn::Result<()> {
    if let Expr::Lit(ExprLit {
        lit: Lit::Str(lit), ..
    }) = e
    {
        let v = lit.value();
        if v.is_empty() || v.len() > 4095 {
            return Err(meta.error(format!("the registered {what} must be 1..=4095 bytes")));
        }
    }
    Ok(())
}

fn parse_attrs(input: &DeriveInput) -> syn::Result<Attrs> {
    let mut attrs = Attrs {
        name: None,
        package: None,
        custom: false,
    };
    for attr in &input.attrs {
        if !attr.path().is_ident("edf") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let e: Expr = meta.value()?.parse()?;
                check_literal(&meta, &e, "name")?;
                attrs.name = Some(e);
                Ok(())
            } else if meta.path.is_ident("package") {
                let e: Expr = meta.value()?.parse()?;
                check_literal(&meta, &e, "package")?;
                attrs.package = Some(e);
                Ok(())
            } else if meta.path.is_ident("custom") {
                attrs.custom = true;
                Ok(())
            } else {
                Err(meta.error(
                    "expected `name = \"...\"` / `name = CONST`, `package = ...` or `custom`",
                ))
            }
        })?;
    }
    if let (Some(_), Some(p)) = (&attrs.name, &attrs.package) {
        return Err(syn::Error::new_spanned(
            p,
            "give either `name` (the whole registered name) or `package`, not both",
        ));
    }
    Ok(attrs)
}

fn expand(input: DeriveInput) -> syn::Result<TokenStream2> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "EDF registered types cannot be generic (Go registers one concrete type per name)",
        ));
    }
    let attrs = parse_attrs(&input)?;
    let ident = &input.ident;
    let ident_str = ident.to_string();
    let edf = quote!(::ergo_edf);

    let name_expr = match (&attrs.name, &attrs.package) {
        (Some(e), _) => quote! {{ let name: &'static str = #e; name }},
        (None, Some(p)) => quote! {{
            static NAME: ::std::sync::OnceLock<::std::string::String> = ::std::sync::OnceLock::new();
            NAME.get_or_init(|| #edf::registry::package_name(#p, #ident_str)).as_str()
        }},
        (None, None) => quote! {{
            static NAME: ::std::sync::OnceLock<::std::string::String> = ::std::sync::OnceLock::new();
            NAME.get_or_init(|| #edf::registry::go_name(::std::module_path!(), #ident_str)).as_str()
        }},
    };

    let (encode_body, decode_body, schema, min_body) = if attrs.custom {
        (
            quote! {
                let at = enc.reserve_u32();
                #edf::EdfCustom::marshal(self, enc.buffer()).map_err(|reason| #edf::EncodeError::Custom {
                    type_name: <Self as #edf::Registered>::type_name(),
                    reason,
                })?;
                enc.patch_u32_len(at, "custom body")
            },
            quote! {
                let bytes = dec.binary()?;
                #edf::EdfCustom::unmarshal(bytes).map_err(|reason| #edf::DecodeError::Custom {
                    type_name: <Self as #edf::Registered>::type_name().to_string(),
                    reason,
                })
            },
            quote!(::std::result::Result::Ok(#edf::RegKind::Custom)),
            quote!(4),
        )
    } else {
        let Data::Struct(data) = &input.data else {
            return Err(syn::Error::new_spanned(
                ident,
                "#[derive(Edf)] supports structs and newtypes (or enums with #[edf(custom)])",
            ));
        };
        match &data.fields {
            Fields::Named(named) => {
                let names: Vec<_> = named
                    .named
                    .iter()
                    .map(|f| f.ident.clone().expect("named field"))
                    .collect();
                let tys: Vec<_> = named.named.iter().map(|f| f.ty.clone()).collect();
                let name_strs: Vec<String> = names.iter().map(|n| n.to_string()).collect();
                (
                    quote! {
                        #( <#tys as #edf::Edf>::encode_body(&self.#names, enc)?; )*
                        ::std::result::Result::Ok(())
                    },
                    quote! {
                        ::std::result::Result::Ok(Self {
                            #( #names: <#tys as #edf::Edf>::decode_body(dec).map_err(|e| {
                                e.in_field(<Self as #edf::Registered>::type_name(), #name_strs)
                            })?, )*
                        })
                    },
                    quote! {
                        ::std::result::Result::Ok(#edf::RegKind::Struct(::std::vec![
                            #( #edf::Field { name: #name_strs.into(), desc: <#tys as #edf::Edf>::type_desc()? }, )*
                        ]))
                    },
                    quote!(0 #( + <#tys as #edf::Edf>::MIN_BODY )*),
                )
            }
            Fields::Unnamed(unnamed) if unnamed.unnamed.len() == 1 => {
                let ty = &unnamed.unnamed[0].ty;
                (
                    quote!(<#ty as #edf::Edf>::encode_named_body(&self.0, enc)),
                    quote!(::std::result::Result::Ok(Self(<#ty as #edf::Edf>::decode_named_body(dec)?))),
                    quote!(::std::result::Result::Ok(#edf::RegKind::Named(<#ty as #edf::Edf>::named_type_desc()?))),
                    quote!(<#ty as #edf::Edf>::MIN_BODY),
                )
            }
            Fields::Unit => (
                quote!(::std::result::Result::Ok(())),
                quote!(::std::result::Result::Ok(Self)),
                quote!(::std::result::Result::Ok(#edf::RegKind::Struct(::std::vec::Vec::new()))),
                quote!(0),
            ),
            Fields::Unnamed(_) => {
                return Err(syn::Error::new_spanned(
                    ident,
                    "#[derive(Edf)] supports named-field structs and one-field newtypes",
                ))
            }
        }
    };

    Ok(quote! {
        impl #edf::Registered for #ident {
            fn type_name() -> &'static str {
                #name_expr
            }
            #[inline]
            fn slot() -> &'static #edf::RegSlot {
                static SLOT: #edf::RegSlot = #edf::RegSlot::new();
                &SLOT
            }
            fn schema() -> ::std::result::Result<#edf::RegKind, #edf::RegisterError> {
                #schema
            }
        }

        impl #edf::Edf for #ident {
            const TAG_KIND: #edf::TagKind = #edf::TagKind::Registered;
            const MIN_BODY: usize = #min_body;
            #[inline]
            fn write_desc(enc: &mut #edf::Encoder<'_>) -> ::std::result::Result<(), #edf::EncodeError> {
                // Go refuses to encode a type that is not registered; so do we, at the sender.
                let ::std::option::Option::Some(index) = <Self as #edf::Registered>::slot().index() else {
                    return ::std::result::Result::Err(#edf::EncodeError::NotRegistered(
                        <Self as #edf::Registered>::type_name(),
                    ));
                };
                enc.put_registered(<Self as #edf::Registered>::type_name(), ::std::option::Option::Some(index))
            }
            #[inline]
            fn read_desc(dec: &mut #edf::Decoder<'_>) -> ::std::result::Result<(), #edf::DecodeError> {
                dec.expect_tag(#edf::tags::REGISTERED)?;
                dec.expect_registered_name(
                    <Self as #edf::Registered>::type_name(),
                    <Self as #edf::Registered>::slot().index(),
                )
            }
            fn type_desc() -> ::std::result::Result<#edf::TypeDesc, #edf::RegisterError> {
                #edf::registry::registered_desc::<Self>()
            }
            #[inline]
            fn encode_body(&self, enc: &mut #edf::Encoder<'_>) -> ::std::result::Result<(), #edf::EncodeError> {
                #encode_body
            }
            #[inline]
            fn decode_body(dec: &mut #edf::Decoder<'_>) -> ::std::result::Result<Self, #edf::DecodeError> {
                #decode_body
            }
        }
    })
}
