import { UseGuards } from '@nestjs/common';
import { Args, Field, Int, Mutation, ObjectType, Query, ResolveField, Resolver } from '@nestjs/graphql';
import {
  AccessToken,
  OAuth2Attribute,
  OAuth2ErrorKey,
  OAuth2Exception,
  OAuth2Guard,
  OAuth2Payload,
  OAuth2Policy,
  OptionalOAuth2,
  RequiredScopes,
  SkipOAuth2,
} from '../../lib';
import { ANSWERS } from './graphql-scenarios';

@ObjectType()
class Profile {
  @Field(() => String, { nullable: true })
  clientId?: string;
  @Field(() => String, { nullable: true })
  username?: string;
  @Field(() => String, { nullable: true })
  subject?: string;
  @Field(() => String, { nullable: true })
  token?: string;
}

@Resolver(() => Profile)
@UseGuards(OAuth2Guard)
@OAuth2Policy({ extractPayload: true })
class ProfileResolver {
  @Query(() => Profile, { nullable: true })
  me(
    @OAuth2Attribute('oauth.client_id') clientId: string,
    @OAuth2Payload('$.username') username: string,
    @OAuth2Payload() payload: { sub?: string } | undefined,
    @AccessToken() token: string,
  ): Profile {
    return { clientId, username, subject: payload?.sub, token };
  }

  @Query(() => Profile, { nullable: true })
  @SkipOAuth2()
  publicProfile(): Profile {
    return {};
  }

  @ResolveField(() => String, { nullable: true })
  tenant(@OAuth2Payload('$.ext.tenant') tenant: string): string {
    return tenant;
  }

  @ResolveField(() => String, { nullable: true })
  @RequiredScopes('secret:read')
  secret(): string {
    return ANSWERS.secret;
  }

  @ResolveField(() => String, { nullable: true })
  @SkipOAuth2()
  open(): string {
    return ANSWERS.open;
  }
}

@Resolver()
@UseGuards(OAuth2Guard)
class OrdersResolver {
  @Query(() => Int, { nullable: true })
  count(): number {
    return ANSWERS.count;
  }

  @Query(() => Int)
  countStrict(): number {
    return ANSWERS.count;
  }

  @Query(() => String, { nullable: true })
  @RequiredScopes('reports:read')
  report(): string {
    return ANSWERS.report;
  }

  @Query(() => String, { nullable: true })
  @SkipOAuth2()
  publicInfo(): string {
    return ANSWERS.publicInfo;
  }

  @Query(() => String, { nullable: true })
  @OptionalOAuth2()
  maybeClient(@OAuth2Attribute('oauth.client_id') clientId: string, @AccessToken() token: string): string {
    return clientId ?? (token === undefined ? 'anonymous' : 'token without attributes');
  }

  @Query(() => String, { nullable: true })
  refuse(): string {
    throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE);
  }

  @Mutation(() => String, { nullable: true })
  @RequiredScopes('orders:write')
  placeOrder(
    @Args('item', { type: () => String }) item: string,
    @OAuth2Attribute('oauth.client_id') clientId: string,
  ): string {
    return `${clientId}:${item}`;
  }
}

@Resolver()
@UseGuards(OAuth2Guard)
@RequiredScopes('admin')
class AdminResolver {
  @Query(() => String, { nullable: true })
  adminStats(): string {
    return ANSWERS.adminStats;
  }

  @Query(() => String, { nullable: true })
  @RequiredScopes('admin:lite')
  adminLite(): string {
    return ANSWERS.adminLite;
  }
}

@Resolver()
@UseGuards(OAuth2Guard)
@SkipOAuth2()
class PublicResolver {
  @Query(() => String, { nullable: true })
  hello(@AccessToken() token: string): string {
    return `hello:${token === undefined ? 'anonymous' : 'token'}`;
  }
}

/** The scenario schema's resolvers, code-first: the schema is built from these classes. */
export const CODE_FIRST_RESOLVERS = [ProfileResolver, OrdersResolver, AdminResolver, PublicResolver];
